package dev.proxyra.jdbc;

import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Struct;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

import dev.proxyra.identity.DbIdentity;

/**
 * The Connection the application holds. It never exposes the physical connection: statements and
 * metadata are wrapped, transaction demarcation goes through the owner (blocked inside a managed
 * transaction, reported as local transaction events outside one), settings the application changes
 * are recorded so cleanup can restore them, and after close every method throws SQLState 08003.
 */
public final class ConnectionHandle implements Connection {
    private final DbIdentity identity;
    private final Throwable origin;
    private volatile SessionOwner owner;
    private volatile boolean closed;
    private final List<JdbcProxy> children = new ArrayList<>(2);

    /** {@code origin}: where the application took this handle (leak reports), or null when not recorded. */
    public ConnectionHandle(SessionOwner owner, Throwable origin) {
        this.owner = owner;
        this.origin = origin;
        this.identity = owner.identity();
    }

    SessionOwner owner() {
        return owner;
    }

    /** Where the application took this handle, when LeakDetection recorded it; else null. */
    public Throwable origin() {
        return origin;
    }

    /** The identity this handle's session runs as. */
    public DbIdentity identity() {
        return identity;
    }

    static SQLException closedException(String what) {
        return new SQLNonTransientConnectionException("proxyra: " + what + " is closed", "08003");
    }

    private Connection physical() throws SQLException {
        if (closed) {
            throw closedException("connection");
        }
        return owner.physical();
    }

    @FunctionalInterface
    private interface SqlCall<T> {
        T apply(Connection physical) throws SQLException;
    }

    @FunctionalInterface
    private interface SqlRun {
        void apply(Connection physical) throws SQLException;
    }

    private <T> T call(SqlCall<T> f) throws SQLException {
        Connection physical = physical();
        try {
            return f.apply(physical);
        } catch (SQLException e) {
            throw owner.checkException(e);
        }
    }

    private void run(SqlRun f) throws SQLException {
        Connection physical = physical();
        try {
            f.apply(physical);
        } catch (SQLException e) {
            throw owner.checkException(e);
        }
    }

    private <T> T child(Class<T> type, T delegate) {
        T wrapped = JdbcProxy.wrap(type, delegate, this, null);
        synchronized (children) {
            children.add(JdbcProxy.handlerOf(wrapped));
        }
        return wrapped;
    }

    void forget(JdbcProxy child) {
        synchronized (children) {
            children.remove(child);
        }
    }

    private void closeChildren() {
        List<JdbcProxy> open;
        synchronized (children) {
            open = new ArrayList<>(children);
            children.clear();
        }
        for (JdbcProxy child : open) {
            child.close(true);
        }
    }

    private String seen(String sql) {
        owner.sqlSeen(sql);
        return sql;
    }

    // ---- lifecycle ----

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeChildren();
        owner.handleClosed(this);
    }

    /** Closed by the server (cleanup, destroy): no event, statements closed. */
    public void invalidate() {
        if (!closed) {
            closed = true;
            closeChildren();
        }
    }

    /** Moves this handle to another managed connection (JCA associateConnection). */
    public void associate(SessionOwner newOwner) throws jakarta.resource.ResourceException {
        SessionOwner old = owner;
        if (old == newOwner) {
            return;
        }
        try {
            newOwner.attach(this, identity);
        } catch (SQLException e) {
            jakarta.resource.ResourceException re = new jakarta.resource.ResourceException(e.getMessage(), e.getSQLState());
            re.initCause(e);
            throw re;
        }
        old.detach(this);
        owner = newOwner;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (closed) {
            return false;
        }
        return call(c -> c.isValid(timeout));
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (closed) {
            return;
        }
        owner.checkException(new SQLNonTransientConnectionException("proxyra: connection aborted by the application",
                "08003"));
        close();
    }

    // ---- statements ----

    @Override
    public Statement createStatement() throws SQLException {
        return child(Statement.class, call(Connection::createStatement));
    }

    @Override
    public Statement createStatement(int type, int concurrency) throws SQLException {
        return child(Statement.class, call(c -> c.createStatement(type, concurrency)));
    }

    @Override
    public Statement createStatement(int type, int concurrency, int holdability) throws SQLException {
        return child(Statement.class, call(c -> c.createStatement(type, concurrency, holdability)));
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        return child(PreparedStatement.class, call(c -> c.prepareStatement(seen(sql))));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        return child(PreparedStatement.class, call(c -> c.prepareStatement(seen(sql), autoGeneratedKeys)));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return child(PreparedStatement.class, call(c -> c.prepareStatement(seen(sql), columnIndexes)));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        return child(PreparedStatement.class, call(c -> c.prepareStatement(seen(sql), columnNames)));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency) throws SQLException {
        return child(PreparedStatement.class, call(c -> c.prepareStatement(seen(sql), type, concurrency)));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int holdability)
            throws SQLException {
        return child(PreparedStatement.class, call(c -> c.prepareStatement(seen(sql), type, concurrency, holdability)));
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return child(CallableStatement.class, call(c -> c.prepareCall(seen(sql))));
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency) throws SQLException {
        return child(CallableStatement.class, call(c -> c.prepareCall(seen(sql), type, concurrency)));
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency, int holdability) throws SQLException {
        return child(CallableStatement.class, call(c -> c.prepareCall(seen(sql), type, concurrency, holdability)));
    }

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return call(c -> c.nativeSQL(sql));
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return child(DatabaseMetaData.class, call(Connection::getMetaData));
    }

    // ---- transactions ----

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        physical();
        try {
            owner.setAutoCommit(autoCommit);
        } catch (SQLException e) {
            throw owner.checkException(e);
        }
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        return call(Connection::getAutoCommit);
    }

    @Override
    public void commit() throws SQLException {
        physical();
        try {
            owner.endTransaction(true);
        } catch (SQLException e) {
            throw owner.checkException(e);
        }
    }

    @Override
    public void rollback() throws SQLException {
        physical();
        try {
            owner.endTransaction(false);
        } catch (SQLException e) {
            throw owner.checkException(e);
        }
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return call(Connection::setSavepoint);
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return call(c -> c.setSavepoint(name));
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        run(c -> c.rollback(savepoint));
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        run(c -> c.releaseSavepoint(savepoint));
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        run(c -> owner.state().setTransactionIsolation(c, level));
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return call(Connection::getTransactionIsolation);
    }

    // ---- settings restored at cleanup ----

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        run(c -> owner.state().setReadOnly(c, readOnly));
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        return call(Connection::isReadOnly);
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        run(c -> owner.state().setCatalog(c, catalog));
    }

    @Override
    public String getCatalog() throws SQLException {
        return call(Connection::getCatalog);
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        run(c -> owner.state().setSchema(c, schema));
    }

    @Override
    public String getSchema() throws SQLException {
        return call(Connection::getSchema);
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        run(c -> owner.state().setHoldability(c, holdability));
    }

    @Override
    public int getHoldability() throws SQLException {
        return call(Connection::getHoldability);
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        run(c -> owner.state().setNetworkTimeout(c, executor, milliseconds));
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        return call(Connection::getNetworkTimeout);
    }

    // ---- plain delegation ----

    @Override
    public SQLWarning getWarnings() throws SQLException {
        return call(Connection::getWarnings);
    }

    @Override
    public void clearWarnings() throws SQLException {
        run(Connection::clearWarnings);
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        return call(Connection::getTypeMap);
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        run(c -> c.setTypeMap(map));
    }

    @Override
    public Clob createClob() throws SQLException {
        return call(Connection::createClob);
    }

    @Override
    public Blob createBlob() throws SQLException {
        return call(Connection::createBlob);
    }

    @Override
    public NClob createNClob() throws SQLException {
        return call(Connection::createNClob);
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return call(Connection::createSQLXML);
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return call(c -> c.createArrayOf(typeName, elements));
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return call(c -> c.createStruct(typeName, attributes));
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        try {
            physical().setClientInfo(name, value);
        } catch (SQLClientInfoException e) {
            throw e;
        } catch (SQLException e) {
            throw new SQLClientInfoException(e.getMessage(), e.getSQLState(), e.getErrorCode(), Map.of(), e);
        }
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        try {
            physical().setClientInfo(properties);
        } catch (SQLClientInfoException e) {
            throw e;
        } catch (SQLException e) {
            throw new SQLClientInfoException(e.getMessage(), e.getSQLState(), e.getErrorCode(), Map.of(), e);
        }
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        return call(c -> c.getClientInfo(name));
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        return call(Connection::getClientInfo);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return call(c -> c.unwrap(iface));
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || call(c -> c.isWrapperFor(iface));
    }

    @Override
    public String toString() {
        return "proxyra Connection[" + identity + (closed ? ", closed" : "") + "]";
    }
}
