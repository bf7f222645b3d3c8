package dev.proxyra.jdbc;

import java.io.PrintWriter;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;

import javax.naming.Reference;
import javax.sql.DataSource;

import jakarta.resource.Referenceable;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnectionFactory;

import dev.proxyra.SqlState;
import dev.proxyra.config.InvalidConfigurationException;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.monitoring.Refusal;
import dev.proxyra.identity.IdentityResolver;
import dev.proxyra.monitoring.PoolMetrics;
import dev.proxyra.pool.IdentityPool;

/**
 * The DataSource applications look up. Each {@code getConnection()} resolves the caller on the calling
 * thread, then asks the server's connection manager (or the non-managed one) for a connection running
 * as that caller.
 */
public final class ProxyraDataSource implements DataSource, Referenceable, Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(ProxyraDataSource.class.getName());

    /**
     * What the DataSource needs from the managed connection factory behind it (proxyra's, in the spi package, which
     * depends on this one and not the other way round).
     */
    public interface Factory extends ManagedConnectionFactory {
        /** Resolves callers to identities; fails when the configuration is invalid. */
        IdentityResolver identityResolver();

        /** The pool, when it is open already; null before the first borrow opens it. */
        IdentityPool openedPool();

        /** Where refusals are counted before the pool opens. */
        PoolMetrics metricsBeforeThePoolOpens();

        /** The request the server's connection manager passes to the managed connection for {@code identity}. */
        ConnectionRequestInfo requestFor(DbIdentity identity);
    }

    private final Factory factory;
    private final ConnectionManager manager;
    private Reference reference;
    private transient PrintWriter logWriter;
    private int loginTimeout;

    public ProxyraDataSource(Factory factory, ConnectionManager manager) {
        this.factory = factory;
        this.manager = manager;
    }

    @Override
    public Connection getConnection() throws SQLException {
        DbIdentity identity;
        try {
            identity = identities().resolve();
        } catch (SQLException e) {
            throw refusedBeforeThePool(e);
        }
        return allocate(identity);
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        DbIdentity identity;
        try {
            identity = identities().resolveExplicit(user, password);
        } catch (SQLException e) {
            throw refusedBeforeThePool(e);
        }
        return allocate(identity);
    }

    /**
     * A request refused before it reached the pool (no caller, not mapped, configuration): counted on the factory's
     * open pool and logged rate-limited per reason. Never opens a pool: a refused request has no business with one.
     * The pool counts what it refuses itself.
     */
    private SQLException refusedBeforeThePool(SQLException e) {
        Refusal reason = Refusal.of(e);
        if (reason != null) {
            IdentityPool pool = factory.openedPool();
            (pool != null ? pool.metrics() : factory.metricsBeforeThePoolOpens()).refused(reason, e);
        } else if (!configurationReported) {
            configurationReported = true; // the same error on every request: once at WARNING, then at FINE
            LOG.warning(() -> e.getMessage() + " [SQLState " + e.getSQLState() + "]");
        } else {
            LOG.fine(() -> e.getMessage() + " [SQLState " + e.getSQLState() + "]");
        }
        return e;
    }

    private transient volatile boolean configurationReported;

    private IdentityResolver identities() throws SQLException {
        try {
            return factory.identityResolver();
        } catch (InvalidConfigurationException e) {
            throw Refusal.CONFIGURATION.nonTransientConnection(e.getMessage(), SqlState.UNABLE_TO_CONNECT, e);
        }
    }

    private Connection allocate(DbIdentity identity) throws SQLException {
        Connection connection;
        try {
            connection = (Connection) manager.allocateConnection(factory, factory.requestFor(identity));
        } catch (ResourceException e) {
            throw logUnlessCounted(sqlException(e));
        }
        // A refused request comes back as a handle carrying the reason (see ConnectionHandle): closing it returns
        // the managed connection to the server's pool as after any use, with no error reported to the server.
        if (connection instanceof ConnectionHandle handle && handle.refusal() != null) {
            handle.close();
            throw logUnlessCounted(handle.refusal());
        }
        return connection;
    }

    /** The pool counted and logged its own refusals; anything else that failed a request is logged here. */
    private static SQLException logUnlessCounted(SQLException e) {
        if (Refusal.of(e) == null) {
            LOG.warning(() -> e.getMessage() + " [SQLState " + e.getSQLState() + "]");
        }
        return e;
    }

    /** The SQLException behind a server's ResourceException, so the caller sees the adapter's own reason. */
    static SQLException sqlException(ResourceException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                return sql;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return new SQLException("proxyra: the application server could not provide a connection: " + e.getMessage(),
                e.getErrorCode() != null && e.getErrorCode().length() == 5 ? e.getErrorCode()
                        : SqlState.UNABLE_TO_CONNECT, e);
    }

    /** The factory behind this DataSource (statistics, tests). */
    public Factory factory() {
        return factory;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return Logger.getLogger("dev.proxyra");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("proxyra: DataSource does not wrap " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public void setReference(Reference reference) {
        this.reference = reference;
    }

    @Override
    public Reference getReference() {
        return reference;
    }
}
