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

import dev.proxyra.dialect.Dialect;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.identity.IdentityResolver;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.jdbc.SessionOwner;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.pool.PhysicalSession;
import dev.proxyra.pool.SessionState;

/**
 * A thin managed connection: a cheap shell the server pools and enlists, holding a physical connection
 * from UCP only from the first {@link #getConnection} until {@link #cleanup}. While a transaction is open
 * its identity is fixed; between uses it may serve any identity.
 */
public final class ProxyraManagedConnection implements ManagedConnection, SessionOwner {
    private static final Logger LOG = Logger.getLogger(ProxyraManagedConnection.class.getName());

    private final ProxyraManagedConnectionFactory factory;
    private final IdentityPool pool;
    private final Dialect dialect;
    private final List<ConnectionEventListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ConnectionHandle> handles = new ArrayList<>(2);
    private final LocalTransaction localTransaction = new ManagedLocalTransaction();

    // Guarded by this.
    private PhysicalSession session;
    private boolean managedTransaction;
    private boolean applicationTransaction;
    private boolean broken;
    private boolean destroyed;
    private PrintWriter logWriter;

    ProxyraManagedConnection(ProxyraManagedConnectionFactory factory, IdentityPool pool) {
        this.factory = factory;
        this.pool = pool;
        this.dialect = pool.dialect();
    }

    ProxyraManagedConnectionFactory factory() {
        return factory;
    }

    IdentityPool pool() {
        return pool;
    }

    /** Not destroyed, not broken, and its pool still serves (a retired pool's connections are not matched). */
    synchronized boolean isReusable() {
        return !destroyed && !broken && !pool.isClosed();
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
            if (destroyed) {
                throw new IllegalStateException("proxyra: managed connection already destroyed");
            }
            try {
                ensureSession(identity);
            } catch (SQLException e) {
                if (broken) {
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
            return handle;
        }
    }

    private void ensureSession(DbIdentity identity) throws SQLException {
        if (session != null) {
            if (session.identity().sameSession(identity) && identity.password() == null) {
                return;
            }
            if (managedTransaction || applicationTransaction || !handles.isEmpty()) {
                throw new SQLException("proxyra: this connection already runs as '" + session.identity().label()
                        + "' for caller '" + session.identity().caller() + "' inside an open transaction or with open"
                        + " handles; it cannot also run as '" + identity.label() + "' for caller '" + identity.caller()
                        + "'. One transaction runs as one caller.", "25000");
            }
            releaseSession();
        }
        PhysicalSession borrowed = pool.borrow(identity);
        session = borrowed;
        if (managedTransaction) {
            try {
                borrowed.state().beginTransaction(borrowed.connection());
            } catch (SQLException e) {
                connectionError(e);
                throw e;
            }
        }
    }

    @Override
    public void associateConnection(Object connection) throws ResourceException {
        if (!(connection instanceof ConnectionHandle handle)) {
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
    public synchronized Connection physical() throws SQLException {
        if (session == null) {
            throw new SQLException("proxyra: connection handle is not associated with a database session", "08003");
        }
        return session.connection();
    }

    @Override
    public Dialect dialect() {
        return dialect;
    }

    @Override
    public synchronized DbIdentity identity() {
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
        event.setConnectionHandle(handle);
        for (ConnectionEventListener l : listeners) {
            l.connectionClosed(event);
        }
    }

    @Override
    public synchronized void callsStillRunning() {
        if (session != null) {
            session.markCallsStillRunning();
        }
    }

    // ---- errors ----

    /** The one path from "this error is fatal" to the connection error event. */
    @Override
    public SQLException checkException(SQLException e) {
        if (dialect.classify(e) == Dialect.ErrorKind.FATAL) {
            connectionError(e);
        }
        return e;
    }

    private void connectionError(SQLException e) {
        synchronized (this) {
            if (session != null) {
                session.markBroken();
            }
            if (broken) {
                return;
            }
            broken = true;
        }
        LOG.log(Level.FINE, "proxyra: fatal error on a physical connection of pool " + pool.name(), e);
        ConnectionEvent event = new ConnectionEvent(this, ConnectionEvent.CONNECTION_ERROR_OCCURRED, e);
        for (ConnectionEventListener l : listeners) {
            l.connectionErrorOccurred(event);
        }
    }

    @Override
    public synchronized void sqlSeen(String sql) {
        if (session != null && dialect.mayChangeIdentity(sql)) {
            session.markIdentityMayHaveChanged();
        }
    }

    @Override
    public synchronized SessionState state() throws SQLException {
        if (session == null) {
            throw new SQLException("proxyra: connection handle is not associated with a database session", "08003");
        }
        return session.state();
    }

    // ---- application-level transaction demarcation on a handle ----

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        Connection physical;
        boolean started;
        boolean committed;
        synchronized (this) {
            if (managedTransaction) {
                if (autoCommit) {
                    throw new SQLException("proxyra: setAutoCommit(true) is not allowed inside a managed transaction;"
                            + " the transaction manager commits", "25000");
                }
                return;
            }
            physical = physical();
            started = !autoCommit && !applicationTransaction;
            committed = autoCommit && applicationTransaction;
            session.state().setAutoCommit(physical, autoCommit);
            applicationTransaction = !autoCommit;
        }
        if (started) {
            fire(ConnectionEvent.LOCAL_TRANSACTION_STARTED);
        } else if (committed) {
            fire(ConnectionEvent.LOCAL_TRANSACTION_COMMITTED);
        }
    }

    @Override
    public void endTransaction(boolean commit) throws SQLException {
        Connection physical;
        synchronized (this) {
            if (managedTransaction) {
                throw new SQLException("proxyra: " + (commit ? "commit()" : "rollback()") + " is not allowed inside a"
                        + " managed transaction; the transaction manager ends it", "25000");
            }
            physical = physical();
        }
        if (commit) {
            physical.commit();
        } else {
            physical.rollback();
        }
        boolean inApplicationTransaction;
        synchronized (this) {
            inApplicationTransaction = applicationTransaction;
        }
        if (inApplicationTransaction) {
            fire(commit ? ConnectionEvent.LOCAL_TRANSACTION_COMMITTED : ConnectionEvent.LOCAL_TRANSACTION_ROLLEDBACK);
            // With auto-commit still off, the next statement opens the next local transaction.
            fire(ConnectionEvent.LOCAL_TRANSACTION_STARTED);
        }
    }

    @Override
    public synchronized boolean inManagedTransaction() {
        return managedTransaction;
    }

    private void fire(int type) {
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
        List<ConnectionHandle> open;
        synchronized (this) {
            open = new ArrayList<>(handles);
            handles.clear();
            managedTransaction = false;
        }
        open.forEach(ConnectionHandle::invalidate);
        synchronized (this) {
            applicationTransaction = false;
            if (session != null) {
                releaseSession();
            }
        }
    }

    /** Hands the physical connection back: the pool ends the lending (IdentityPool.release). Caller holds the lock. */
    private void releaseSession() {
        PhysicalSession s = session;
        session = null;
        if (broken) {
            s.markBroken();
        }
        pool.release(s);
    }

    @Override
    public void destroy() throws ResourceException {
        List<ConnectionHandle> open;
        synchronized (this) {
            if (destroyed) {
                return;
            }
            destroyed = true;
            open = new ArrayList<>(handles);
            handles.clear();
            managedTransaction = false;
        }
        open.forEach(ConnectionHandle::invalidate);
        synchronized (this) {
            if (session != null) {
                releaseSession();
            }
        }
        listeners.clear();
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
                if (managedTransaction) {
                    throw new LocalTransactionException("proxyra: a transaction is already active on this connection");
                }
                if (applicationTransaction) {
                    throw new LocalTransactionException("proxyra: the application began a local transaction on this"
                            + " connection (setAutoCommit(false)) and has not ended it; a container transaction cannot"
                            + " begin on it");
                }
                managedTransaction = true;
                if (session != null) {
                    try {
                        session.state().beginTransaction(session.connection());
                    } catch (SQLException e) {
                        managedTransaction = false;
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
                if (!managedTransaction) {
                    throw new LocalTransactionException("proxyra: no transaction is active on this connection");
                }
                if (session == null) {
                    managedTransaction = false;
                    return; // no statement ran: nothing to end
                }
                Connection physical = session.connection();
                try {
                    if (commit) {
                        physical.commit();
                    } else {
                        physical.rollback();
                    }
                    managedTransaction = false;
                    session.state().endTransaction(physical);
                } catch (SQLException e) {
                    if (!commit) {
                        managedTransaction = false;
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
