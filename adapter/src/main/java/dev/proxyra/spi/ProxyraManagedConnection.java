package dev.proxyra.spi;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.security.auth.Subject;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.IllegalStateException;
import jakarta.resource.spi.LocalTransaction;
import jakarta.resource.spi.LocalTransactionException;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionMetaData;
import jakarta.resource.spi.TransactionSupport.TransactionSupportLevel;

import dev.proxyra.SqlState;
import dev.proxyra.dialect.Dialect;
import dev.proxyra.dialect.PostgresTwoPhase;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.identity.IdentityResolver;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.jdbc.SessionOwner;
import dev.proxyra.monitoring.Refusal;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.pool.Lease;

/**
 * A thin managed connection: a cheap shell the server pools and enlists, holding a physical connection
 * from UCP only from the first {@link #getConnection} until {@link #cleanup}. While a transaction is open
 * its identity is fixed; between uses it may serve any identity.
 */
public final class ProxyraManagedConnection implements ManagedConnection, SessionOwner {
    private static final Logger LOG = Logger.getLogger(ProxyraManagedConnection.class.getName());

    /**
     * The managed connection's own life. Each constant says what holds in it; every move is made in
     * {@link #brokenBy} or {@link #destroy}, each of which fires its connection event once.
     */
    enum Life {
        /** Serves handles; may be matched and reused by the server. */
        OPEN,
        /**
         * A fatal error was reported on its session: the server was told (CONNECTION_ERROR_OCCURRED, once) and
         * destroys it; every session it still holds or takes is discarded when it ends.
         */
        BROKEN,
        /** Destroyed: it holds no session and serves nothing. */
        DESTROYED
    }

    /**
     * Who demarcates the transaction open on this managed connection. Every move is one call of {@link #demarcate},
     * which returns the local-transaction event it owes the server.
     */
    enum Demarcation {
        /** None: the session is in auto-commit, as every lending begins. */
        NONE,
        /**
         * The application, through a handle: setAutoCommit(false) began it (LOCAL_TRANSACTION_STARTED); commit and
         * rollback end it and begin the next; setAutoCommit(true) commits it (LOCAL_TRANSACTION_COMMITTED).
         */
        APPLICATION,
        /**
         * The server, through {@link LocalTransaction}: the session leaves auto-commit from its first statement;
         * the application may neither commit, roll back nor return to auto-commit (25000).
         */
        CONTAINER,
        /**
         * The transaction manager, through this managed connection's XAResource: as CONTAINER for the application
         * (no commit, rollback or auto-commit through a handle); the branch's own state is {@link XaBranch}.
         */
        XA;

        /** Whether the server ends the transaction, so that a handle may not. */
        boolean byServer() {
            return this == CONTAINER || this == XA;
        }
    }

    private final ProxyraManagedConnectionFactory factory;
    private final IdentityPool pool;
    private final List<ConnectionEventListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ConnectionHandle> handles = new ArrayList<>(2);
    private final LocalTransaction localTransaction = new ManagedLocalTransaction();
    private final BranchResource xaResource = new BranchResource();

    // Guarded by this.
    private Lease session;
    private Demarcation demarcation = Demarcation.NONE;
    private Life life = Life.OPEN;
    private PrintWriter logWriter;
    /** This managed connection's global transaction branch; {@link XaBranch#NONE} unless demarcation is XA. */
    private XaBranch branch = XaBranch.NONE;
    /** The branch's xid (a private copy) while branch is not NONE. */
    private Xid branchXid;
    /**
     * The last branch prepared here, with the identity it was prepared as, until it is finished or this managed
     * connection is cleaned up: its commit then needs no look-up of the owner.
     */
    private Xid preparedXid;
    private DbIdentity preparedAs;
    /** The transaction id (xid8, as text) of the branch prepared last here; null when none was assigned. */
    private String preparedXact;
    /** setTransactionTimeout's seconds; 0: none. */
    private int transactionTimeout;
    /** Whether the session carries transaction_timeout for the branch, to be reset when the branch leaves it. */
    private boolean timeoutApplied;

    ProxyraManagedConnection(ProxyraManagedConnectionFactory factory, IdentityPool pool) {
        this.factory = factory;
        this.pool = pool;
    }

    ProxyraManagedConnectionFactory factory() {
        return factory;
    }

    IdentityPool pool() {
        return pool;
    }

    /** Not destroyed, not broken, and its pool still serves (a retired pool's connections are not matched). */
    synchronized boolean isReusable() {
        return life == Life.OPEN && !pool.isClosed();
    }

    synchronized Life life() {
        return life;
    }

    synchronized Demarcation demarcation() {
        return demarcation;
    }

    /**
     * The one place the transaction's demarcation changes: returns the local-transaction event this move owes the
     * server (fired by the caller, outside the lock), or 0 for none. The container's begin and end are its own.
     */
    private int demarcate(Demarcation next) {
        assert Thread.holdsLock(this);
        Demarcation was = demarcation;
        demarcation = next;
        if (was == Demarcation.NONE && next == Demarcation.APPLICATION) {
            return ConnectionEvent.LOCAL_TRANSACTION_STARTED;
        }
        if (was == Demarcation.APPLICATION && next == Demarcation.NONE) {
            return ConnectionEvent.LOCAL_TRANSACTION_COMMITTED; // setAutoCommit(true) commits
        }
        return 0;
    }

    // ---- handles ----

    @Override
    public Object getConnection(Subject subject, ConnectionRequestInfo request) throws ResourceException {
        if (!(request instanceof IdentityRequest identityRequest)) {
            // Only ProxyraDataSource resolves a caller; anything else would run as the proxy account.
            throw resourceException(new SQLInvalidAuthorizationSpecException(
                    "proxyra: a connection was requested without a caller identity (not through proxyra's DataSource);"
                            + " refused", IdentityResolver.AUTHORIZATION_STATE));
        }
        DbIdentity identity = identityRequest.identity();
        synchronized (this) {
            if (life == Life.DESTROYED) {
                throw new IllegalStateException("proxyra: managed connection already destroyed");
            }
            try {
                ensureSession(identity);
            } catch (SQLException e) {
                if (life == Life.BROKEN) {
                    throw resourceException(e); // the session broke under this managed connection: the event went out
                }
                // The request was refused (caller not authorized, a second identity in one transaction, no physical
                // connection within the wait) but this managed connection is as usable as before. Servers treat an
                // exception from here as a broken connection (log it, leak or flush pool slots), so the refusal
                // travels in a handle that ProxyraDataSource closes at once and turns into the SQLException.
                ConnectionHandle refused = ConnectionHandle.refused(this, e);
                handles.add(refused);
                return refused;
            }
            ConnectionHandle handle = new ConnectionHandle(this, factory.config().leakDetection()
                    ? new Throwable("proxyra: connection handle taken here") : null, identity.metadataOnly());
            handles.add(handle);
            return handle.face();
        }
    }

    private void ensureSession(DbIdentity identity) throws SQLException {
        if (session != null) {
            if (session.identity().sameSession(identity) && identity.password() == null) {
                return;
            }
            if (demarcation != Demarcation.NONE || !handles.isEmpty()) {
                throw new SQLException("proxyra: this connection already runs as '" + session.identity().label()
                        + "' for caller '" + session.identity().caller() + "' inside an open transaction or with open"
                        + " handles; it cannot also run as '" + identity.label() + "' for caller '" + identity.caller()
                        + "'. One transaction runs as one caller.", SqlState.INVALID_TRANSACTION_STATE);
            }
            releaseSession();
        }
        Lease borrowed = pool.borrow(identity);
        session = borrowed;
        if (demarcation.byServer()) {
            try {
                // the identity was switched by the borrow, in auto-commit: outside the transaction that begins here
                if (demarcation == Demarcation.XA) {
                    beginBranch(borrowed);
                } else {
                    borrowed.state().beginTransaction(borrowed.connection());
                }
            } catch (SQLException e) {
                brokenBy(e); // the session cannot take the server's transaction
                throw e;
            }
        }
    }

    @Override
    public void associateConnection(Object connection) throws ResourceException {
        ConnectionHandle handle = ConnectionHandle.of(connection);
        if (handle == null) {
            throw new ResourceException("proxyra: cannot associate " + connection);
        }
        handle.associate(this);
    }

    /** Called by a handle moving here from another managed connection. */
    @Override
    public synchronized void attach(ConnectionHandle handle, DbIdentity identity) throws SQLException {
        ensureSession(identity);
        handles.add(handle);
    }

    @Override
    public synchronized void detach(ConnectionHandle handle) {
        handles.remove(handle);
    }

    @Override
    public synchronized Lease session() throws SQLException {
        if (session == null) {
            throw new SQLException("proxyra: connection handle is not associated with a database session",
                    SqlState.CONNECTION_DOES_NOT_EXIST);
        }
        return session;
    }

    synchronized DbIdentity identity() {
        return session == null ? null : session.identity();
    }

    @Override
    public void handleClosed(ConnectionHandle handle) {
        synchronized (this) {
            if (!handles.remove(handle)) {
                return;
            }
        }
        ConnectionEvent event = new ConnectionEvent(this, ConnectionEvent.CONNECTION_CLOSED);
        event.setConnectionHandle(handle.face());
        for (ConnectionEventListener l : listeners) {
            l.connectionClosed(event);
        }
    }

    // ---- errors ----

    /** The one path from "this error is fatal" to the connection error event. */
    @Override
    public SQLException checkException(SQLException e) {
        if (pool.dialect().classify(e) == Dialect.ErrorKind.FATAL) {
            brokenBy(e);
        }
        return e;
    }

    /**
     * {@link Life#OPEN} to {@link Life#BROKEN}: the session is tainted, and the server is told once. A session taken
     * later by this managed connection is tainted when it ends ({@link #releaseSession}).
     */
    private void brokenBy(SQLException e) {
        if (markBroken()) {
            tellBroken(e);
        }
    }

    /** The first half of {@link #brokenBy}: true when this call moved it to BROKEN (the server is then told). */
    private synchronized boolean markBroken() {
        if (session != null) {
            session.taint(Lease.Taint.BROKEN);
        }
        if (life != Life.OPEN) {
            return false;
        }
        life = Life.BROKEN;
        return true;
    }

    /** The second half of {@link #brokenBy}, called without this managed connection's monitor. */
    private void tellBroken(SQLException e) {
        LOG.log(Level.FINE, "proxyra: fatal error on a physical connection of pool " + pool.name(), e);
        ConnectionEvent event = new ConnectionEvent(this, ConnectionEvent.CONNECTION_ERROR_OCCURRED, e);
        for (ConnectionEventListener l : listeners) {
            l.connectionErrorOccurred(event);
        }
    }

    // ---- application-level transaction demarcation on a handle ----

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        int event;
        synchronized (this) {
            if (demarcation.byServer()) {
                if (autoCommit) {
                    throw new SQLException("proxyra: setAutoCommit(true) is not allowed inside a managed transaction;"
                            + " the transaction manager commits", SqlState.INVALID_TRANSACTION_STATE);
                }
                return;
            }
            Lease s = session();
            s.state().setAutoCommit(s.connection(), autoCommit);
            event = demarcate(autoCommit ? Demarcation.NONE : Demarcation.APPLICATION);
        }
        fire(event);
    }

    @Override
    public void endTransaction(boolean commit) throws SQLException {
        Connection physical;
        synchronized (this) {
            if (demarcation.byServer()) {
                throw new SQLException("proxyra: " + (commit ? "commit()" : "rollback()") + " is not allowed inside a"
                        + " managed transaction; the transaction manager ends it", SqlState.INVALID_TRANSACTION_STATE);
            }
            physical = session().connection();
        }
        if (commit) {
            physical.commit();
        } else {
            physical.rollback();
        }
        boolean inApplicationTransaction;
        synchronized (this) {
            inApplicationTransaction = demarcation == Demarcation.APPLICATION;
        }
        if (inApplicationTransaction) {
            fire(commit ? ConnectionEvent.LOCAL_TRANSACTION_COMMITTED : ConnectionEvent.LOCAL_TRANSACTION_ROLLEDBACK);
            // With auto-commit still off, the next statement opens the next local transaction.
            fire(ConnectionEvent.LOCAL_TRANSACTION_STARTED);
        }
    }

    @Override
    public synchronized boolean inManagedTransaction() {
        return demarcation.byServer();
    }

    private void fire(int type) {
        if (type == 0) {
            return;
        }
        ConnectionEvent event = new ConnectionEvent(this, type);
        for (ConnectionEventListener l : listeners) {
            switch (type) {
                case ConnectionEvent.LOCAL_TRANSACTION_STARTED -> l.localTransactionStarted(event);
                case ConnectionEvent.LOCAL_TRANSACTION_COMMITTED -> l.localTransactionCommitted(event);
                case ConnectionEvent.LOCAL_TRANSACTION_ROLLEDBACK -> l.localTransactionRolledback(event);
                default -> throw new java.lang.IllegalStateException("event " + type);
            }
        }
    }

    // ---- lifecycle ----

    @Override
    public void cleanup() throws ResourceException {
        endUse();
    }

    @Override
    public void destroy() throws ResourceException {
        synchronized (this) {
            if (life == Life.DESTROYED) {
                return;
            }
            life = Life.DESTROYED;
        }
        endUse();
        listeners.clear();
    }

    /**
     * Cleanup and destroy: invalidates every handle, forgets the transaction (the pool rolls back whatever is open
     * when the session ends), and gives the session back.
     */
    private void endUse() {
        List<ConnectionHandle> open;
        synchronized (this) {
            open = new ArrayList<>(handles);
            handles.clear();
            if (branch != XaBranch.NONE) {
                // the transaction manager never completed it here: the session's return rolls it back (or discards the
                // session if that fails); a branch prepared here already left the session for the database
                LOG.warning("proxyra: a global transaction branch still " + branch + " on a connection of pool "
                        + pool.name() + " when the server released it is rolled back");
                try {
                    moveBranch(XaBranch.Step.RELEASE, null);
                } catch (XAException impossible) {
                    throw new java.lang.IllegalStateException(impossible); // RELEASE is allowed from every state
                }
            }
            preparedXid = null;
            preparedAs = null;
            preparedXact = null;
            demarcate(Demarcation.NONE); // no event: the server ends its use, and the return rolls back
        }
        open.forEach(ConnectionHandle::invalidate);
        synchronized (this) {
            demarcate(Demarcation.NONE);
            if (session != null) {
                releaseSession();
            }
        }
    }

    /** Hands the physical connection back: the pool ends the lending (IdentityPool.release). Caller holds the lock. */
    private void releaseSession() {
        Lease s = session;
        session = null;
        if (timeoutApplied) {
            timeoutApplied = false;
            resetTimeout(s);
        }
        if (life == Life.BROKEN) {
            s.taint(Lease.Taint.BROKEN);
        }
        pool.release(s);
    }

    @Override
    public void addConnectionEventListener(ConnectionEventListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeConnectionEventListener(ConnectionEventListener listener) {
        listeners.remove(listener);
    }

    /**
     * This managed connection's own XAResource, with its pool's TransactionSupportLevel=XATransaction: the driver's
     * XAResource and XAConnection never reach the server or the application.
     */
    @Override
    public XAResource getXAResource() throws ResourceException {
        if (pool.config().transactionSupport() != TransactionSupportLevel.XATransaction) {
            throw new NotSupportedException("proxyra: pool " + pool.name() + " has TransactionSupportLevel="
                    + pool.config().transactionSupport() + "; set TransactionSupportLevel=XATransaction for XA");
        }
        return xaResource;
    }

    @Override
    public LocalTransaction getLocalTransaction() {
        return localTransaction;
    }

    @Override
    public ManagedConnectionMetaData getMetaData() {
        return new ManagedConnectionMetaData() {
            @Override
            public String getEISProductName() {
                return pool.dialect().getClass().getSimpleName().equals("OracleProxySession") ? "Oracle" : "PostgreSQL";
            }

            @Override
            public String getEISProductVersion() {
                return "";
            }

            @Override
            public int getMaxConnections() {
                return 0;
            }

            @Override
            public String getUserName() {
                DbIdentity id = identity();
                return id == null || id.isProxyAccount() ? factory.config().user() : id.databaseUser();
            }
        };
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    private static ResourceException resourceException(SQLException e) {
        ResourceException re = new ResourceException(e.getMessage(), e.getSQLState());
        re.initCause(e);
        return re;
    }

    /** The server's transaction on this managed connection; the physical work starts with the first handle. */
    private final class ManagedLocalTransaction implements LocalTransaction {
        @Override
        public void begin() throws ResourceException {
            synchronized (ProxyraManagedConnection.this) {
                if (demarcation == Demarcation.CONTAINER) {
                    throw new LocalTransactionException("proxyra: a transaction is already active on this connection");
                }
                if (demarcation == Demarcation.XA) {
                    throw new LocalTransactionException("proxyra: a global (XA) transaction branch is active on this"
                            + " connection; a local transaction cannot begin on it");
                }
                if (demarcation == Demarcation.APPLICATION) {
                    throw new LocalTransactionException("proxyra: the application began a local transaction on this"
                            + " connection (setAutoCommit(false)) and has not ended it; a container transaction cannot"
                            + " begin on it");
                }
                demarcate(Demarcation.CONTAINER);
                if (session != null) {
                    try {
                        session.state().beginTransaction(session.connection());
                    } catch (SQLException e) {
                        demarcate(Demarcation.NONE);
                        throw localTransactionException("begin", checkException(e));
                    }
                }
            }
        }

        @Override
        public void commit() throws ResourceException {
            end(true);
        }

        @Override
        public void rollback() throws ResourceException {
            end(false);
        }

        private void end(boolean commit) throws ResourceException {
            try {
                endPhysical(commit);
            } finally {
                if (factory.config().leakDetection()) {
                    reclaimOpenHandles();
                }
            }
        }

        /**
         * LeakDetection: a handle still open when its transaction ends is treated as a leak, reported with
         * where it was taken and closed, so the server can reclaim this connection. Off by default because
         * JCA lets a handle span transactions; then UCP's AbandonedConnectionTimeout and the server's own
         * leak reclaim are the safety nets.
         */
        private void reclaimOpenHandles() {
            List<ConnectionHandle> open;
            synchronized (ProxyraManagedConnection.this) {
                open = new ArrayList<>(handles);
            }
            for (ConnectionHandle handle : open) {
                LOG.log(Level.WARNING, "proxyra: a connection handle was still open when its transaction ended;"
                        + " closing it. It was taken at:", handle.origin());
                handle.close();
            }
        }

        /**
         * A failed commit leaves the transaction active, so that the transaction manager's rollback that follows
         * finds it; a rollback always ends it (cleanup rolls back what a failed rollback left).
         */
        private void endPhysical(boolean commit) throws ResourceException {
            synchronized (ProxyraManagedConnection.this) {
                if (demarcation != Demarcation.CONTAINER) {
                    throw new LocalTransactionException("proxyra: no transaction is active on this connection");
                }
                if (session == null) {
                    demarcate(Demarcation.NONE);
                    return; // no statement ran: nothing to end
                }
                Connection physical = session.connection();
                try {
                    if (commit) {
                        physical.commit();
                    } else {
                        physical.rollback();
                    }
                    demarcate(Demarcation.NONE);
                    session.state().endTransaction(physical);
                } catch (SQLException e) {
                    if (!commit) {
                        demarcate(Demarcation.NONE);
                    }
                    throw localTransactionException(commit ? "commit" : "rollback", checkException(e));
                }
            }
        }

        private LocalTransactionException localTransactionException(String what, SQLException e) {
            LocalTransactionException lte = new LocalTransactionException("proxyra: " + what + " failed: "
                    + e.getMessage(), e.getSQLState());
            lte.initCause(e);
            return lte;
        }
    }

    // ---- XA: the global transaction branch of this managed connection ----

    /**
     * The one place the branch moves (refusing, with XAER_PROTO, what the protocol does not allow); the demarcation
     * follows it: XA while there is a branch. Caller holds the lock.
     */
    private void moveBranch(XaBranch.Step step, Xid xid) throws XAException {
        assert Thread.holdsLock(this);
        XaBranch next = branch.after(step);
        if (branch == XaBranch.NONE && next != XaBranch.NONE) {
            branchXid = xid;
            demarcate(Demarcation.XA);
        } else if (next == XaBranch.NONE) {
            branchXid = null;
            if (demarcation == Demarcation.XA) {
                demarcate(Demarcation.NONE);
            }
        }
        branch = next;
    }

    /**
     * The physical begin of the branch on a session that already runs as the caller: the transaction timeout, sent
     * while the session is still outside any transaction (so it is no work of the branch, and XA_RDONLY still means
     * that no statement ran), then auto-commit off. Caller holds the lock.
     */
    private void beginBranch(Lease s) throws SQLException {
        Connection c = s.connection();
        if (transactionTimeout > 0 && !timeoutApplied && PostgresTwoPhase.hasTransactionTimeout(c)) {
            try (Statement st = c.createStatement()) {
                st.execute("SET transaction_timeout = " + Math.min(transactionTimeout * 1000L, Integer.MAX_VALUE));
            }
            timeoutApplied = true;
        }
        s.state().beginTransaction(c);
    }

    /** The branch left the session (prepared, committed or rolled back): auto-commit again, the timeout reset. */
    private void endBranchOnSession(Lease s) throws SQLException {
        s.state().endTransaction(s.connection());
        if (timeoutApplied) {
            timeoutApplied = false;
            resetTimeout(s);
        }
    }

    /** Puts transaction_timeout back for the next lending; a session where that fails is not lent again. */
    private void resetTimeout(Lease s) {
        Connection c = s.connection();
        try {
            if (pool.dialect().transactionOpen(c)) {
                pool.dialect().rollback(c); // a session being released: its return would roll this back anyway
            }
            if (!c.getAutoCommit()) {
                s.state().endTransaction(c);
            }
            try (Statement st = c.createStatement()) {
                st.execute("RESET transaction_timeout");
            }
        } catch (SQLException e) {
            checkException(e);
            s.taint(Lease.Taint.BROKEN); // its setting cannot be vouched for: discarded at its end
        }
    }

    /** The active branch rolls back here (it was never prepared). Caller holds the lock. */
    private void rollbackHere() throws XAException {
        Lease s = session;
        moveBranch(XaBranch.Step.ROLLBACK, null);
        if (s == null) {
            return;
        }
        try {
            s.connection().rollback();
            endBranchOnSession(s);
        } catch (SQLException e) {
            // never prepared: the session's end (discarded, or already dead) rolls the branch back
            checkException(e);
            s.taint(Lease.Taint.BROKEN);
        }
    }

    /** After a PREPARE or one-phase COMMIT that PostgreSQL answered with an error: nothing of the branch stays. */
    private void afterFailedCompletion(Lease s) {
        try {
            if (pool.dialect().transactionOpen(s.connection())) {
                pool.dialect().rollback(s.connection());
            }
            endBranchOnSession(s);
        } catch (SQLException e) {
            checkException(e);
            s.taint(Lease.Taint.BROKEN);
        }
    }

    /**
     * COMMIT or ROLLBACK PREPARED on a session running as the branch's owner. A failure with the connection is a
     * {@link FinishLost}: the statement was sent, and may have run. The session is tainted here; the managed
     * connection's own session is reported broken by the caller, outside this managed connection's monitor.
     */
    private void finishOn(Lease s, String gid, boolean commit) throws XAException {
        try (Statement st = s.connection().createStatement()) {
            st.execute(PostgresTwoPhase.finishSql(gid, commit));
        } catch (SQLException e) {
            boolean fatal = pool.dialect().classify(e) == Dialect.ErrorKind.FATAL;
            if (fatal) {
                s.taint(Lease.Taint.BROKEN);
                throw new FinishLost("proxyra: " + (commit ? "COMMIT" : "ROLLBACK") + " PREPARED of branch " + gid
                        + " lost its connection; the branch may still be prepared: " + e.getMessage(), e);
            }
            int code = XaErrors.ofFinish(e);
            if (code == XAException.XAER_RMFAIL && SqlState.INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                throw unfinishable(gid, s.identity().databaseUser(), commit, "the session running as "
                        + s.identity().databaseUser() + " may not finish it (" + e.getMessage() + ")", e);
            }
            throw XaErrors.of(code, "proxyra: " + (commit ? "COMMIT" : "ROLLBACK") + " PREPARED of branch " + gid
                    + (code == XAException.XAER_NOTA ? " found no such prepared branch" : " failed; it stays prepared")
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * XAER_RMFAIL from a COMMIT or ROLLBACK PREPARED that was sent and lost its connection: it may have run, so a later
     * try that finds no such branch means that it did.
     */
    private static final class FinishLost extends XAException {
        private static final long serialVersionUID = 1L;

        FinishLost(String message, SQLException cause) {
            super(message);
            errorCode = XAException.XAER_RMFAIL;
            initCause(cause);
        }
    }

    /**
     * A prepared branch that proxyra cannot finish as its owner: XAER_RMFAIL (it stays prepared; never a heuristic),
     * and a WARNING with the SQL an operator runs.
     */
    private XAException unfinishable(String gid, String owner, boolean commit, String why, Throwable cause) {
        String sql = PostgresTwoPhase.finishSql(gid, commit);
        String message = "proxyra: transaction branch " + gid + " on the database of pool " + pool.name()
                + " stays prepared, holding its locks: " + why + ". The transaction manager asked to "
                + (commit ? "commit" : "roll back") + " it; an operator must run, in that database as a superuser"
                + (owner == null ? "" : " or as role " + owner) + ": " + sql;
        LOG.warning(message);
        return XaErrors.of(XAException.XAER_RMFAIL, message, cause);
    }

    /**
     * Finishes a prepared branch, wherever it was prepared, on a session of this pool borrowed as its owner (the pool's
     * own switch: the proxy account needs no superuser). {@code owner} null: looked up in pg_prepared_xacts.
     */
    private void finishPrepared(Xid xid, boolean commit, DbIdentity owner) throws XAException {
        String gid = PostgresTwoPhase.gid(xid);
        if (owner == null) {
            PostgresTwoPhase.InDoubt found = lookUp(gid);
            if (found == null) {
                throw XaErrors.of(XAException.XAER_NOTA, "proxyra: no prepared transaction branch " + gid
                        + " in the database of pool " + pool.name(), null);
            }
            if (found.ownerDropped()) {
                throw unfinishable(gid, null, commit, "its owner role was dropped after it was prepared", null);
            }
            if (!found.ownerIsLoginRole() && !found.loginRoleIsMember()) {
                throw unfinishable(gid, found.owner(), commit, "it belongs to role " + found.owner()
                        + ", which the proxy account is not a member of (only the owner or a superuser may finish it)",
                        null);
            }
            owner = found.ownerIsLoginRole() ? DbIdentity.PROXY_ACCOUNT : DbIdentity.of(found.owner(), found.owner());
        }
        Lease s;
        try {
            s = pool.borrow(owner);
        } catch (SQLException e) {
            if (pool.dialect().isNotAuthorized(e) || SqlState.isAuthorization(e.getSQLState())) {
                throw unfinishable(gid, owner.databaseUser(), commit, "the proxy account cannot become its owner ("
                        + e.getMessage() + ")", e);
            }
            throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: no session of pool " + pool.name() + " to finish"
                    + " branch " + gid + " (it stays prepared): " + e.getMessage(), e);
        }
        try {
            finishOn(s, gid, commit);
        } finally {
            pool.release(s);
        }
    }

    /** The branch {@code gid} of this database in pg_prepared_xacts, read on a session of the proxy account. */
    private PostgresTwoPhase.InDoubt lookUp(String gid) throws XAException {
        return onProxySession(c -> PostgresTwoPhase.inDoubt(c, gid), "look up branch " + gid);
    }

    private interface OnSession<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T onProxySession(OnSession<T> work, String what) throws XAException {
        Lease s;
        try {
            s = pool.borrow(DbIdentity.PROXY_ACCOUNT);
        } catch (SQLException e) {
            throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: no session of pool " + pool.name() + " to " + what
                    + ": " + e.getMessage(), e);
        }
        try {
            return work.run(s.connection());
        } catch (SQLException e) {
            if (pool.dialect().classify(e) == Dialect.ErrorKind.FATAL) {
                s.taint(Lease.Taint.BROKEN);
            }
            throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: could not " + what + ": " + e.getMessage(), e);
        } finally {
            pool.release(s);
        }
    }

    /**
     * What a branch known here is finished with: this managed connection's own session ({@code done}), or one borrowed
     * as {@code owner}. {@code lost}: the try on the own session was sent and lost its connection.
     */
    private record Finish(DbIdentity owner, boolean done, FinishLost lost, boolean tellBroken, String xact) {
    }

    /**
     * The branch prepared last on this managed connection: finished here on its own session when that still runs as
     * the owner and carries no transaction, else its owner is known. Null: not prepared here. Caller holds the lock.
     * An own session whose connection broke is handed back (the pool discards it) before anything is tried again, so
     * that it does not hold one of MaxPoolSize while the retry borrows.
     */
    private Finish finishPreparedHere(Xid xid, boolean commit) throws XAException {
        if (preparedXid == null || !preparedXid.equals(xid)) {
            return null;
        }
        DbIdentity owner = preparedAs;
        String xact = preparedXact;
        preparedXid = null;
        preparedAs = null;
        preparedXact = null;
        Lease s = session;
        if (s != null && life == Life.OPEN && branch == XaBranch.NONE && demarcation == Demarcation.NONE
                && s.identity().sameSession(owner)) {
            try {
                finishOn(s, PostgresTwoPhase.gid(xid), commit);
            } catch (FinishLost lost) {
                // BROKEN before the monitor is let go, so that no borrow in between lends a session here; the server
                // is told after (finishPreparedBranch)
                boolean tell = markBroken();
                releaseSession();
                return new Finish(owner, false, lost, tell, xact); // tried again on another session of the pool
            }
            return new Finish(owner, true, null, false, xact);
        }
        return new Finish(owner, false, null, false, xact);
    }

    /**
     * commit(onePhase=false) or rollback of a branch that is not active here, after {@link #finishPreparedHere} (null:
     * not prepared here): finished, or tried on sessions borrowed as the owner. A broken own session is reported to the
     * server here, outside the monitor (a server's listener may take its pool's locks, which another thread may hold
     * while it waits for this monitor).
     */
    private void finishPreparedBranch(Xid xid, boolean commit, Finish here) throws XAException {
        if (here != null && here.tellBroken() && here.lost().getCause() instanceof SQLException broken) {
            tellBroken(broken);
        }
        if (here != null && here.done()) {
            return;
        }
        finishPreparedRetrying(xid, commit, here == null ? null : here.owner(), here == null ? null : here.lost(),
                here == null ? null : here.xact());
    }

    /**
     * finishPrepared, tried again on another session as long as each try failed with the connection (the database
     * restarting, a session killed, a network cut), until the pool's ConnectionWaitTimeout is spent and at least
     * twice (so at most about twice that time, each borrow being bounded by it); then the last XAER_RMFAIL, and the
     * branch stays prepared for the transaction manager's retry or recovery. Trying again is safe: the transaction
     * manager decided the outcome. A COMMIT or ROLLBACK PREPARED that was sent before its connection broke may have
     * run: when a later try finds no such branch, it did, and the finish returns normally (a transaction manager takes
     * XAER_NOTA after a commit for a heuristic hazard). Not tried again: a pool that is closed, or exhausted (its borrow
     * already waited ConnectionWaitTimeout; the transaction manager tries later). Some transaction managers (Payara's)
     * give an XAER_RMFAIL at commit up to recovery at their next start: a short outage of the database is ridden out
     * here.
     */
    private void finishPreparedRetrying(Xid xid, boolean commit, DbIdentity owner, FinishLost lostBefore,
            String xact) throws XAException {
        String gid = PostgresTwoPhase.gid(xid);
        FinishLost sentAndLost = lostBefore;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(pool.config().connectionWaitTimeout());
        long pause = TimeUnit.MILLISECONDS.toNanos(50);
        XAException last = lostBefore;
        for (int tries = 0; ; tries++) {
            if (last != null) {
                // at least two tries of its own: one borrow may itself wait the whole ConnectionWaitTimeout for a
                // database that was still shutting down when it began
                boolean again = lostTheConnection(last) || (sentAndLost != null && stillBusy(last));
                if (!again || pool.isClosed() || (tries >= 2 && System.nanoTime() + pause > deadline)) {
                    throw last;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(pause); // a database that restarts needs a moment
                pause = Math.min(pause * 2, TimeUnit.SECONDS.toNanos(1));
                if (Thread.currentThread().isInterrupted()) {
                    throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: interrupted while finishing branch " + gid
                            + "; it may still be prepared", last);
                }
            }
            try {
                finishPrepared(xid, commit, owner);
                return;
            } catch (FinishLost e) {
                sentAndLost = e;
                last = e;
            } catch (XAException e) {
                if (e.errorCode == XAException.XAER_NOTA && sentAndLost != null) {
                    endedAsAsked(gid, commit, xact);
                    return;
                }
                last = e;
            }
        }
    }

    /**
     * A branch found gone after a finish whose connection broke: with its transaction id (recorded at PREPARE on this
     * managed connection), the database says which way it ended. As asked: done. The other way (someone else finished
     * it meanwhile, an operator or another transaction manager's recovery): the heuristic outcome, XA_HEURRB or
     * XA_HEURCOM, which the transaction manager reports. Unknown (no id recorded here, or the database cannot say):
     * taken as the lost statement's doing.
     */
    private void endedAsAsked(String gid, boolean commit, String xact) throws XAException {
        String asked = commit ? "COMMIT" : "ROLLBACK";
        String status = null;
        if (xact != null) {
            try {
                status = onProxySession(c -> PostgresTwoPhase.transactionStatus(c, xact), "ask how branch " + gid
                        + " ended");
            } catch (XAException unknown) {
                LOG.log(Level.FINE, "proxyra: how branch " + gid + " ended is unknown", unknown);
            }
        }
        if ((commit && "aborted".equals(status)) || (!commit && "committed".equals(status))) {
            String message = "proxyra: branch " + gid + " of pool " + pool.name() + " was " + status + " by someone"
                    + " else while the " + asked + " PREPARED the transaction manager asked for had lost its connection";
            LOG.warning(message);
            throw XaErrors.of(commit ? XAException.XA_HEURRB : XAException.XA_HEURCOM, message, null);
        }
        LOG.info("proxyra: branch " + gid + " of pool " + pool.name() + " is no longer prepared: the " + asked
                + " PREPARED whose connection broke had run" + (status == null ? "" : " (the database says " + status
                + ")"));
    }

    /**
     * PostgreSQL's "prepared transaction ... is busy" (55000): a backend still holds the branch, as the one whose
     * connection was lost may, still running its COMMIT or ROLLBACK PREPARED. Tried again after a lost try: giving up
     * would leave the transaction manager a later "no such branch" (a heuristic hazard to it) once that one ends.
     */
    private static boolean stillBusy(XAException e) {
        return e.getCause() instanceof SQLException sql
                && SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE.equals(sql.getSQLState());
    }

    /**
     * An XAER_RMFAIL whose cause was the connection's failure: a finish that lost its connection, or a borrow that
     * found the database unreachable (not a refusal of the identity, not a missing privilege, not an exhausted pool).
     */
    private boolean lostTheConnection(XAException e) {
        if (e instanceof FinishLost) {
            return true;
        }
        return e.errorCode == XAException.XAER_RMFAIL && e.getCause() instanceof SQLException sql
                && pool.dialect().classify(sql) == Dialect.ErrorKind.FATAL
                && Refusal.of(sql) != Refusal.POOL_EXHAUSTED;
    }

    /**
     * proxyra's own XAResource, one per managed connection. The branch runs as the caller on the caller's session:
     * start records the xid and the physical begin happens on the session, whether the server enlists before or after
     * getConnection. A prepared branch is finished as its owner on any XAResource of the pool.
     */
    private final class BranchResource implements XAResource {

        @Override
        public void start(Xid xid, int flags) throws XAException {
            requireXid(xid);
            synchronized (ProxyraManagedConnection.this) {
                if (life == Life.DESTROYED) {
                    throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: managed connection destroyed", null);
                }
                switch (flags) {
                    case TMNOFLAGS -> startNew(xid);
                    case TMJOIN -> {
                        requireOwnBranch(xid);
                        moveBranch(XaBranch.Step.JOIN, null);
                    }
                    case TMRESUME -> {
                        requireOwnBranch(xid);
                        moveBranch(XaBranch.Step.RESUME, null);
                    }
                    default -> throw XaErrors.of(XAException.XAER_INVAL, "proxyra: start flags " + flags
                            + " (expected TMNOFLAGS, TMJOIN or TMRESUME)", null);
                }
            }
        }

        private void startNew(Xid xid) throws XAException {
            if (branch != XaBranch.NONE) {
                throw XaErrors.of(branchXid.equals(xid) ? XAException.XAER_DUPID : XAException.XAER_PROTO,
                        "proxyra: this connection already has a branch (" + branch + "); one at a time", null);
            }
            if (demarcation != Demarcation.NONE) {
                throw XaErrors.of(XAException.XAER_OUTSIDE, "proxyra: a local transaction ("
                        + (demarcation == Demarcation.APPLICATION ? "setAutoCommit(false) of the application"
                        : "the server's LocalTransaction") + ") is open on this connection; a global transaction"
                        + " branch cannot start on it", null);
            }
            Lease s = session;
            if (s != null) {
                boolean open;
                try {
                    open = pool.dialect().transactionOpen(s.connection());
                } catch (SQLException e) {
                    throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: " + e.getMessage(), checkException(e));
                }
                if (open) {
                    throw XaErrors.of(XAException.XAER_OUTSIDE, "proxyra: a transaction begun by SQL is open on this"
                            + " connection; a global transaction branch cannot start on it", null);
                }
            }
            moveBranch(XaBranch.Step.START, PostgresTwoPhase.copyOf(xid));
            if (s != null) {
                try {
                    beginBranch(s);
                } catch (SQLException e) {
                    moveBranch(XaBranch.Step.ROLLBACK, null);
                    throw XaErrors.of(XAException.XAER_RMFAIL, "proxyra: the branch could not begin: "
                            + e.getMessage(), checkException(e));
                }
            }
        }

        @Override
        public void end(Xid xid, int flags) throws XAException {
            requireXid(xid);
            synchronized (ProxyraManagedConnection.this) {
                requireOwnBranch(xid);
                switch (flags) {
                    case TMSUCCESS -> moveBranch(XaBranch.Step.END_SUCCESS, null);
                    case TMSUSPEND -> moveBranch(XaBranch.Step.END_SUSPEND, null);
                    case TMFAIL -> moveBranch(XaBranch.Step.END_FAIL, null);
                    default -> throw XaErrors.of(XAException.XAER_INVAL, "proxyra: end flags " + flags
                            + " (expected TMSUCCESS, TMSUSPEND or TMFAIL)", null);
                }
            }
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            requireXid(xid);
            synchronized (ProxyraManagedConnection.this) {
                requireOwnBranch(xid);
                if (branch == XaBranch.ROLLBACK_ONLY) {
                    rollbackHere();
                    throw XaErrors.of(XAException.XA_RBROLLBACK, "proxyra: the branch was ended with TMFAIL; rolled"
                            + " back", null);
                }
                branch.after(XaBranch.Step.COMPLETE); // XAER_PROTO unless ended
                Lease s = session;
                if (s == null) {
                    moveBranch(XaBranch.Step.COMPLETE, null);
                    return XA_RDONLY;
                }
                Connection c = s.connection();
                Xid prepared = branchXid;
                if (s.has(Lease.Taint.IDENTITY_SUSPECT)) {
                    // PREPARE would give the branch to whatever role that SQL set: it is not prepared as anyone else
                    rollbackHere();
                    throw XaErrors.of(XAException.XA_RBROLLBACK, "proxyra: the branch ran SQL that can change the"
                            + " session's role; it is rolled back, never prepared as another role", null);
                }
                try {
                    if (!pool.dialect().transactionOpen(c)) {
                        moveBranch(XaBranch.Step.COMPLETE, null);
                        endBranchOnSession(s);
                        return XA_RDONLY; // no statement ran in the branch: nothing to prepare or commit
                    }
                    // asked whatever IdentityCheck says: the scan cannot see a role set inside a function, and
                    // PREPARE gives the branch to whatever role the session has
                    if (pool.dialect().identityChangeableBySql() && !pool.dialect().verify(c, s.identity())) {
                        // SQL the scan cannot see (a function, a DO block) changed the role: PREPARE would give the
                        // branch to that role
                        s.taint(Lease.Taint.IDENTITY_SUSPECT);
                        rollbackHere();
                        throw XaErrors.of(XAException.XA_RBROLLBACK, "proxyra: the branch no longer runs as its caller"
                                + " (the application's SQL changed the session's role); it is rolled back, never"
                                + " prepared as another role", null);
                    }
                    String xact;
                    try (Statement st = c.createStatement()) {
                        // the branch's transaction id in the PREPARE's own round trip: how a branch ended can be
                        // asked later by it (a finish whose answer was lost)
                        st.execute(PostgresTwoPhase.XACT_ID_SQL + ";" + PostgresTwoPhase.prepareSql(prepared));
                        try (java.sql.ResultSet rs = st.getResultSet()) {
                            xact = rs != null && rs.next() ? rs.getString(1) : null;
                        }
                    }
                    preparedXact = xact;
                } catch (SQLException e) {
                    Dialect.ErrorKind kind = pool.dialect().classify(e);
                    int code = XaErrors.ofCompletion(e, kind);
                    if (branch != XaBranch.NONE) {
                        moveBranch(XaBranch.Step.COMPLETE, null);
                    }
                    if (kind != Dialect.ErrorKind.FATAL) {
                        afterFailedCompletion(s);
                    }
                    throw XaErrors.of(code, "proxyra: PREPARE TRANSACTION of branch " + PostgresTwoPhase.gid(prepared)
                            + " failed" + (code == XAException.XAER_RMFAIL ? " on a connection error; it may be"
                            + " prepared, which recovery finds" : "; PostgreSQL rolled the branch back") + ": "
                            + e.getMessage(), checkException(e));
                }
                preparedXid = prepared;
                preparedAs = s.identity();
                moveBranch(XaBranch.Step.COMPLETE, null);
                try {
                    endBranchOnSession(s);
                } catch (SQLException e) {
                    checkException(e); // prepared all the same: the session's trouble is the pool's
                    s.taint(Lease.Taint.BROKEN);
                }
                return XA_OK;
            }
        }

        @Override
        public void commit(Xid xid, boolean onePhase) throws XAException {
            requireXid(xid);
            Finish here;
            synchronized (ProxyraManagedConnection.this) {
                if (branch != XaBranch.NONE && branchXid.equals(xid)) {
                    if (!onePhase) {
                        throw XaErrors.of(XAException.XAER_PROTO, "proxyra: commit(onePhase=false) of a branch that"
                                + " was not prepared", null);
                    }
                    commitOnePhase();
                    return;
                }
                if (onePhase) {
                    throw XaErrors.of(XAException.XAER_NOTA, "proxyra: commit(onePhase=true) of a branch that is not"
                            + " this connection's", null);
                }
                here = finishPreparedHere(xid, true);
            }
            finishPreparedBranch(xid, true, here);
        }

        private void commitOnePhase() throws XAException {
            if (branch == XaBranch.ROLLBACK_ONLY) {
                rollbackHere();
                throw XaErrors.of(XAException.XA_RBROLLBACK, "proxyra: the branch was ended with TMFAIL; rolled back",
                        null);
            }
            branch.after(XaBranch.Step.COMPLETE); // XAER_PROTO unless ended
            Lease s = session;
            if (s == null) {
                moveBranch(XaBranch.Step.COMPLETE, null);
                return;
            }
            try {
                s.connection().commit();
            } catch (SQLException e) {
                Dialect.ErrorKind kind = pool.dialect().classify(e);
                int code = XaErrors.ofCompletion(e, kind);
                moveBranch(XaBranch.Step.COMPLETE, null);
                if (kind != Dialect.ErrorKind.FATAL) {
                    afterFailedCompletion(s);
                }
                throw XaErrors.of(code, "proxyra: the one-phase commit failed" + (code == XAException.XAER_RMFAIL
                        ? " on a connection error; its outcome is unknown" : "; PostgreSQL rolled the branch back")
                        + ": " + e.getMessage(), checkException(e));
            }
            moveBranch(XaBranch.Step.COMPLETE, null);
            try {
                endBranchOnSession(s);
            } catch (SQLException e) {
                checkException(e); // committed all the same
                s.taint(Lease.Taint.BROKEN);
            }
        }

        @Override
        public void rollback(Xid xid) throws XAException {
            requireXid(xid);
            Finish here;
            synchronized (ProxyraManagedConnection.this) {
                if (branch != XaBranch.NONE && branchXid.equals(xid)) {
                    rollbackHere();
                    return;
                }
                here = finishPreparedHere(xid, false);
            }
            finishPreparedBranch(xid, false, here);
        }

        /**
         * TMSTARTRSCAN: every prepared branch of this database in pgjdbc's format, whoever owns it (one this pool cannot
         * finish is listed too: its commit or rollback then says what an operator runs). Other flags: nothing more.
         */
        @Override
        public Xid[] recover(int flags) throws XAException {
            if ((flags & ~(TMSTARTRSCAN | TMENDRSCAN)) != 0) {
                throw XaErrors.of(XAException.XAER_INVAL, "proxyra: recover flags " + flags, null);
            }
            if ((flags & TMSTARTRSCAN) == 0) {
                return new Xid[0];
            }
            List<PostgresTwoPhase.InDoubt> inDoubt = onProxySession(PostgresTwoPhase::inDoubt,
                    "list the prepared transaction branches");
            List<Xid> xids = new ArrayList<>(inDoubt.size());
            for (PostgresTwoPhase.InDoubt b : inDoubt) {
                Xid xid = PostgresTwoPhase.xid(b.gid());
                if (xid != null) {
                    xids.add(xid);
                }
            }
            return xids.toArray(Xid[]::new);
        }

        /** proxyra reports no heuristic outcome, so there is none to forget. */
        @Override
        public void forget(Xid xid) throws XAException {
            throw XaErrors.of(XAException.XAER_NOTA, "proxyra: no heuristically completed branch to forget", null);
        }

        /** Only this very resource: two managed connections serve two callers, whose branches never join. */
        @Override
        public boolean isSameRM(XAResource other) {
            return other == this;
        }

        @Override
        public int getTransactionTimeout() {
            synchronized (ProxyraManagedConnection.this) {
                return transactionTimeout;
            }
        }

        /**
         * Applied to the branches that begin from now on, as PostgreSQL 17's transaction_timeout on the session (the
         * server then ends a branch still unprepared past it, even while the application's code holds the thread);
         * not applied on older servers (returns false there).
         */
        @Override
        public boolean setTransactionTimeout(int seconds) throws XAException {
            if (seconds < 0) {
                throw XaErrors.of(XAException.XAER_INVAL, "proxyra: transaction timeout " + seconds, null);
            }
            synchronized (ProxyraManagedConnection.this) {
                transactionTimeout = seconds;
            }
            return true;
        }

        private void requireXid(Xid xid) throws XAException {
            if (xid == null) {
                throw XaErrors.of(XAException.XAER_INVAL, "proxyra: no xid", null);
            }
            // the XA limits (MAXGTRIDSIZE, MAXBQUALSIZE): a longer part would be prepared under a gid recovery could
            // not read back, a branch left holding its locks with nobody told
            byte[] gtrid = xid.getGlobalTransactionId();
            byte[] bqual = xid.getBranchQualifier();
            if (gtrid == null || gtrid.length > Xid.MAXGTRIDSIZE || bqual == null || bqual.length > Xid.MAXBQUALSIZE) {
                throw XaErrors.of(XAException.XAER_INVAL, "proxyra: an xid's global transaction id and branch qualifier"
                        + " must each be at most 64 bytes", null);
            }
        }

        private void requireOwnBranch(Xid xid) throws XAException {
            if (branch == XaBranch.NONE || !branchXid.equals(xid)) {
                throw XaErrors.of(XAException.XAER_NOTA, "proxyra: not this connection's transaction branch", null);
            }
        }
    }

    /** This managed connection's branch state, for tests. */
    synchronized XaBranch branch() {
        return branch;
    }
}
