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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

import dev.proxyra.SqlState;
import dev.proxyra.dialect.Dialect;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.pool.Lease;

/**
 * The Connection the application holds. It never exposes the physical connection: every object reached
 * through it (statements, result sets, metadata, LOBs, arrays, driver interfaces from {@link #unwrap}) is
 * wrapped and dies with it; transaction demarcation goes through the owner (blocked inside a managed
 * transaction, reported as local transaction events outside one); settings the application changes are
 * recorded so that the return of the session can restore them; after close every method throws SQLState
 * 08003.
 *
 * <p>A handle may be born refused: the managed connection could not give this request a session (the
 * caller is not authorized, the database is unreachable) but is itself fine. Servers treat an exception
 * from {@code ManagedConnection.getConnection} as a broken connection (logging it, leaking or flushing pool
 * slots), so the refusal travels in the handle instead: {@link ProxyraDataSource} closes it at once, which
 * returns the managed connection normally, and throws {@link #refusal()} to the application.
 *
 * <p>The handle of a request without a caller is never handed out itself: the application holds its {@link #face()},
 * a {@link MetadataOnlyConnection} that lets only a named list of methods through to it.
 */
public final class ConnectionHandle implements Connection {
    private final DbIdentity identity;
    /** The database's rules for this handle's sessions; null for a refused handle, which serves nothing. */
    private final Dialect dialect;
    private final Throwable origin;
    private final SQLException refusal;
    private final boolean metadataOnly;
    /** What the application holds: this handle, or the metadata-only face in front of it. */
    private final Connection face;
    private volatile SessionOwner owner;
    /**
     * {@link #CLOSED} and the number of calls of this handle and its children now inside the driver, in one int so
     * that entering a call and closing the handle cannot miss each other: a call counts itself and sees the closed
     * bit in one atomic step, and close sets the bit and sees the count in another.
     */
    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;
    private static final int CLOSED = 1 << 30;
    private static final int CALLS = CLOSED - 1;
    private static final java.lang.invoke.VarHandle STATE;

    static {
        try {
            STATE = java.lang.invoke.MethodHandles.lookup().findVarHandle(ConnectionHandle.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** Incremented when the handle moves to another session: objects made before are left behind. */
    private volatile int generation;
    private final JdbcProxy.Children children = new JdbcProxy.Children(this);
    private DatabaseMetaData metaData;

    /** {@code origin}: where the application took this handle (leak reports), or null when not recorded. */
    public ConnectionHandle(SessionOwner owner, Throwable origin) {
        this(owner, origin, false);
    }

    /**
     * With {@code metadataOnly} the handle of a request without a caller (UnauthenticatedAccess=METADATA_ONLY): the
     * application holds its {@link #face()}, which answers database metadata and transaction settings and refuses
     * everything else with SQLState 28000 (see {@link MetadataOnlyConnection}).
     */
    public ConnectionHandle(SessionOwner owner, Throwable origin, boolean metadataOnly) {
        this(owner, origin, null, metadataOnly);
    }

    private ConnectionHandle(SessionOwner owner, Throwable origin, SQLException refusal, boolean metadataOnly) {
        this.owner = owner;
        this.origin = origin;
        this.refusal = refusal;
        this.metadataOnly = metadataOnly;
        this.face = metadataOnly ? MetadataOnlyConnection.guard(this) : this;
        Lease session = refusal == null ? sessionOf(owner) : null;
        this.identity = session == null ? null : session.identity();
        this.dialect = session == null ? null : session.dialect();
    }

    private static Lease sessionOf(SessionOwner owner) {
        try {
            return owner.session();
        } catch (SQLException e) {
            throw new java.lang.IllegalStateException("proxyra: a handle was made for an owner without a session", e);
        }
    }

    /** A handle that carries the reason its request was refused; every method throws it. */
    public static ConnectionHandle refused(SessionOwner owner, SQLException refusal) {
        return new ConnectionHandle(owner, null, refusal, false);
    }

    /** Whether this is the metadata-only handle of a request without a caller. */
    public boolean metadataOnly() {
        return metadataOnly;
    }

    /**
     * What the application holds, is given back by getConnection() of anything reached through this handle, and
     * what connection events name: this handle, or for a metadata-only handle the deny-by-default face in front of it.
     */
    public Connection face() {
        return face;
    }

    /** The handle behind a connection the application holds (a handle or its metadata-only face), else null. */
    public static ConnectionHandle of(Object applicationConnection) {
        if (applicationConnection instanceof ConnectionHandle handle) {
            return handle;
        }
        return MetadataOnlyConnection.handleOf(applicationConnection);
    }

    /** Why this handle's request was refused, or null for a usable handle. */
    public SQLException refusal() {
        return refusal;
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
        return new SQLNonTransientConnectionException("proxyra: " + what + " is closed", SqlState.CONNECTION_DOES_NOT_EXIST);
    }

    /** Fails as every call on a closed or refused handle does. */
    private void checkUsable() throws SQLException {
        if (isClosed()) {
            throw closedException("connection");
        }
        if (refusal != null) {
            throw refusal;
        }
    }

    /** The physical connection, for a call that has {@link #enter entered}. */
    private Connection physical() throws SQLException {
        if (refusal != null) {
            throw refusal;
        }
        return owner.session().connection();
    }

    /**
     * Counts a call into the physical connection, made through this handle or anything reached through it, until
     * {@link #exit}; false, counting nothing, once the handle is closed. One atomic add: the check and the count are
     * the same step, so no call can pass the check and then run unseen by {@link #close}.
     */
    boolean enter() {
        if (((int) STATE.getAndAdd(this, 1) & CLOSED) == 0) {
            return true;
        }
        STATE.getAndAdd(this, -1);
        return false;
    }

    void exit() {
        STATE.getAndAdd(this, -1);
    }

    /** {@link #enter}, or 08003. */
    private void enterOrFail() throws SQLException {
        if (!enter()) {
            throw closedException("connection");
        }
    }

    /**
     * What the application sees of an error from the driver. While the handle is open it goes through the owner's
     * fatal-error funnel. A call still running when the handle closed ended on a session that is being discarded,
     * and the owner may already serve another caller: the error is not reported to it.
     */
    SQLException failed(SQLException e) {
        if (isClosed()) {
            return new SQLNonTransientConnectionException("proxyra: the connection was closed while this call ran on"
                    + " it; its session is discarded", SqlState.CONNECTION_DOES_NOT_EXIST, e);
        }
        return owner.checkException(e);
    }

    /**
     * Sets the closed bit; when calls were inside the driver at that moment, the owner's session cannot be proven
     * clean (such a call may still begin a transaction or change a setting after the session is reset) and is
     * discarded. Returns the number of those calls, or -1 when the handle was closed already.
     */
    private int markClosed() {
        int before = (int) STATE.getAndBitwiseOr(this, CLOSED);
        if ((before & CLOSED) != 0) {
            return -1;
        }
        int running = before & CALLS;
        if (running != 0) {
            callsStillRunningOn(owner);
        }
        return running;
    }

    /**
     * Calls of the application are still inside the driver on {@code owner}'s session: they can still change it after
     * any reset, so it is never lent again (their work is cancelled when it is returned).
     */
    private static void callsStillRunningOn(SessionOwner owner) {
        try {
            owner.session().taint(Lease.Taint.CALLS_STILL_RUNNING);
        } catch (SQLException noSession) {
            // the owner holds no session any more: nothing of it is left to mark
        }
    }

    /** Calls of this handle and its children inside the driver now. */
    int callsInFlight() {
        return (int) STATE.getVolatile(this) & CALLS;
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
        enterOrFail();
        try {
            Connection physical = physical();
            try {
                return f.apply(physical);
            } catch (SQLException e) {
                throw failed(e);
            }
        } finally {
            exit();
        }
    }

    private void run(SqlRun f) throws SQLException {
        enterOrFail();
        try {
            Connection physical = physical();
            try {
                f.apply(physical);
            } catch (SQLException e) {
                throw failed(e);
            }
        } finally {
            exit();
        }
    }

    private <T> T child(Class<T> type, T delegate) {
        return JdbcProxy.wrap(type, delegate, this, children);
    }

    /** Wrappers still held for this handle (statements, metadata, LOBs, driver interfaces): for tests. */
    int openChildren() {
        return children.size();
    }

    /**
     * Notes SQL the application runs on this handle or its children (the identity-change scan), and refuses SQL that
     * would end the transaction the server demarcates (COMMIT, ROLLBACK, PREPARE TRANSACTION, COMMIT PREPARED ...):
     * its end is the transaction manager's, as commit() and rollback() on the handle already are. Run as SQL, it would
     * commit a branch the transaction manager may still roll back, or hand it to a gid the manager never learns.
     */
    String seen(String sql) throws SQLException {
        owner.session().sqlSeen(sql);
        if (dialect != null && owner.inManagedTransaction() && dialect.endsTransaction(sql)) {
            throw new SQLException("proxyra: SQL that ends the transaction (COMMIT, ROLLBACK, PREPARE TRANSACTION,"
                    + " COMMIT PREPARED, ROLLBACK PREPARED) is not allowed inside a managed transaction; the"
                    + " transaction manager ends it", SqlState.INVALID_TRANSACTION_STATE);
        }
        return sql;
    }

    // ---- lifecycle ----

    @Override
    public void close() {
        if (markClosed() >= 0) {
            children.closeAll(false);
            owner.handleClosed(this);
        }
    }

    /**
     * Closed by the server (cleanup, destroy): no event, statements closed, unless calls were still running: the
     * session they run on is discarded, and its statements with it.
     */
    public void invalidate() {
        int running = markClosed();
        if (running >= 0) {
            children.closeAll(running == 0);
        }
    }

    /**
     * Moves this handle to another managed connection (JCA associateConnection). What was reached through it
     * belongs to the previous session, which may go on to serve someone else: it is closed first.
     */
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
        owner = newOwner;
        generation++;
        // A call that entered before this point may still be reaching the old session, one entering after sees the
        // new owner and generation: the old session must not serve anyone else while the former run.
        boolean callsOnOldSession = callsInFlight() != 0;
        if (callsOnOldSession) {
            callsStillRunningOn(old);
        }
        children.closeAll(!callsOnOldSession);
        synchronized (this) {
            metaData = null;
        }
        old.detach(this);
    }

    int generation() {
        return generation;
    }

    @Override
    public boolean isClosed() {
        return ((int) STATE.getVolatile(this) & CLOSED) != 0;
    }

    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (isClosed() || refusal != null) {
            return false;
        }
        if (call(c -> dialect.isValid(c, timeout))) {
            return true;
        }
        // the driver gave up on the session (or its answer did not come in time): never lend it again
        owner.checkException(new SQLNonTransientConnectionException("proxyra: the connection did not answer isValid"
                + " within " + timeout + " s", SqlState.CONNECTION_FAILURE));
        return false;
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (isClosed()) {
            return;
        }
        owner.checkException(new SQLNonTransientConnectionException("proxyra: connection aborted by the application",
                SqlState.CONNECTION_DOES_NOT_EXIST));
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

    /** One metadata wrapper per handle, however often it is asked for. */
    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        DatabaseMetaData delegate = call(Connection::getMetaData);
        synchronized (this) {
            if (metaData == null || JdbcProxy.isDone(metaData)) {
                metaData = child(DatabaseMetaData.class, delegate);
            }
            return metaData;
        }
    }

    // ---- transactions ----

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        run(c -> owner.setAutoCommit(autoCommit));
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        return call(Connection::getAutoCommit);
    }

    @Override
    public void commit() throws SQLException {
        run(c -> owner.endTransaction(true));
    }

    @Override
    public void rollback() throws SQLException {
        run(c -> owner.endTransaction(false));
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
        run(c -> owner.session().state().setTransactionIsolation(c, level));
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return call(Connection::getTransactionIsolation);
    }

    // ---- settings restored when the session is returned ----

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        run(c -> owner.session().state().setReadOnly(c, readOnly));
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        return call(Connection::isReadOnly);
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        run(c -> owner.session().state().setCatalog(c, catalog));
    }

    @Override
    public String getCatalog() throws SQLException {
        return call(Connection::getCatalog);
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        run(c -> owner.session().state().setSchema(c, schema));
    }

    @Override
    public String getSchema() throws SQLException {
        return call(Connection::getSchema);
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        run(c -> owner.session().state().setHoldability(c, holdability));
    }

    @Override
    public int getHoldability() throws SQLException {
        return call(Connection::getHoldability);
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        run(c -> owner.session().state().setNetworkTimeout(c, executor, milliseconds));
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        return call(Connection::getNetworkTimeout);
    }

    /**
     * A copy: pgjdbc returns its live map, which a caller could change in place and so past SessionState's restore
     * (only setTypeMap is recorded). JDBC allows a driver to copy the type map; changes take effect by setTypeMap.
     */
    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        Map<String, Class<?>> live = call(Connection::getTypeMap);
        return live == null ? new java.util.HashMap<>() : new java.util.HashMap<>(live);
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        run(c -> owner.session().state().setTypeMap(c, map));
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        try {
            run(c -> {
                owner.session().state().beforeClientInfo(c, List.of(name));
                c.setClientInfo(name, value);
            });
        } catch (SQLClientInfoException e) {
            throw e;
        } catch (SQLException e) {
            throw new SQLClientInfoException(e.getMessage(), e.getSQLState(), e.getErrorCode(), Map.of(), e);
        }
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        try {
            run(c -> {
                // the names it clears (those set now and not in properties) are restored on return too
                java.util.Set<String> touched = new java.util.HashSet<>(properties.stringPropertyNames());
                touched.addAll(c.getClientInfo().stringPropertyNames());
                owner.session().state().beforeClientInfo(c, touched);
                c.setClientInfo(properties);
            });
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
    public Clob createClob() throws SQLException {
        return child(Clob.class, call(Connection::createClob));
    }

    @Override
    public Blob createBlob() throws SQLException {
        return child(Blob.class, call(Connection::createBlob));
    }

    @Override
    public NClob createNClob() throws SQLException {
        return child(NClob.class, call(Connection::createNClob));
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return child(SQLXML.class, call(Connection::createSQLXML));
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return child(Array.class, call(c -> c.createArrayOf(typeName, elements)));
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return child(Struct.class, call(c -> c.createStruct(typeName, attributes)));
    }

    /**
     * This handle, or a driver interface of the connection the dialect offers (PGConnection, OracleConnection):
     * bound to this handle's lifetime and limited to calls that neither change the session's identity or state
     * for later callers nor reach the physical connection. Anything else is refused.
     */
    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        checkUsable();
        Dialect.VendorInterface vendor = dialect.vendorInterface(iface);
        if (vendor == null) {
            checkUsable();
            throw new SQLException("proxyra: a connection handle cannot be unwrapped to " + iface.getName()
                    + ": the physical connection is never handed to the application; "
                    + dialect.offeredVendorInterface().getName() + " is offered, limited to calls that"
                    + " cannot change or outlive the caller's session", SqlState.FEATURE_NOT_SUPPORTED);
        }
        Object driver = call(c -> c.unwrap(iface));
        return iface.cast(JdbcProxy.vendorView(vendor, driver, this, children));
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return true;
        }
        if (dialect == null) {
            checkUsable(); // a refused handle: throws its refusal
        }
        return dialect.vendorInterface(iface) != null && call(c -> c.isWrapperFor(iface));
    }

    @Override
    public String toString() {
        return "proxyra Connection[" + (refusal != null ? "refused" : identity) + (isClosed() ? ", closed" : "") + "]";
    }
}
