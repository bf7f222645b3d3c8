package dev.proxyra.spi;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.security.auth.Subject;
import javax.transaction.xa.XAResource;

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

import dev.proxyra.SqlState;
import dev.proxyra.dialect.Dialect;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.identity.IdentityResolver;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.jdbc.SessionOwner;
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
        CONTAINER
    }

    private final ProxyraManagedConnectionFactory factory;
    private final IdentityPool pool;
    private final List<ConnectionEventListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ConnectionHandle> handles = new ArrayList<>(2);
    private final LocalTransaction localTransaction = new ManagedLocalTransaction();

    // Guarded by this.
    private Lease session;
    private Demarcation demarcation = Demarcation.NONE;
    private Life life = Life.OPEN;
    private PrintWriter logWriter;

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
        if (demarcation == Demarcation.CONTAINER) {
            try {
                borrowed.state().beginTransaction(borrowed.connection());
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
        synchronized (this) {
            if (session != null) {
                session.taint(Lease.Taint.BROKEN);
            }
            if (life != Life.OPEN) {
                return;
            }
            life = Life.BROKEN;
        }
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
            if (demarcation == Demarcation.CONTAINER) {
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
            if (demarcation == Demarcation.CONTAINER) {
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
        return demarcation == Demarcation.CONTAINER;
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

    @Override
    public XAResource getXAResource() throws ResourceException {
        throw new NotSupportedException("proxyra supports LocalTransaction only");
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
}
