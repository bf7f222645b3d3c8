package dev.proxyra.testing.fakepg;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Locale;
import java.util.logging.Logger;

import javax.sql.DataSource;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.QueryExecutor;
import org.postgresql.core.TransactionState;

/**
 * A PostgreSQL stand-in that lives in memory: connections remember the role SET ROLE gave them and answer
 * {@code select current_user[, session_user]} from it, with no network and no server. UCP pools it like
 * PGSimpleDataSource ({@code ConnectionFactoryClassName}), so a benchmark over it measures the client
 * side alone: UCP, the adapter, and this fake's small, equal cost per JDBC call. That isolates the
 * adapter's own CPU and allocation from round trips, which dominate and vary on a busy machine.
 * <p>
 * Tests script faults on the {@link FakePgServer} whose URL the pool is given ({@link FakePgServer#start()}); its
 * javadoc lists the faults and where the fake still differs from PostgreSQL and pgjdbc.
 */
public final class FakePgDataSource implements DataSource {
    private String url;
    private String user = "app_proxy";
    private String password;
    private int loginTimeout;

    public void setUrl(String url) {
        this.url = url;
    }

    public String getUrl() {
        return url;
    }

    public void setURL(String url) {
        this.url = url;
    }

    public String getURL() {
        return url;
    }

    public void setUser(String user) {
        this.user = user;
    }

    public String getUser() {
        return user;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    public String getPassword() {
        return password;
    }

    @Override
    public Connection getConnection() {
        return FakeConnection.open(FakePgServer.at(url).login(user));
    }

    @Override
    public Connection getConnection(String username, String pw) {
        return FakeConnection.open(FakePgServer.at(url).login(username != null ? username : user));
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }

    /** One fake session: a pgjdbc connection to one {@link FakePgServer.Backend}. */
    static final class FakeConnection implements InvocationHandler {
        private final FakePgServer.Backend backend;
        private final String sessionUser;
        private boolean autoCommit = true;
        /** A statement ran since the last commit or rollback with auto-commit off: what pgjdbc reports as OPEN. */
        private boolean inTransaction;
        /** A statement failed inside the explicit transaction: pgjdbc reports FAILED, the server refuses all but its end. */
        private boolean aborted;
        /** The role when the explicit transaction began: ROLLBACK goes back to it (SET ROLE is transactional). */
        private String roleAtBegin;
        /** application_name, as the server would report it (ParameterStatus); RESET ALL clears it. */
        private String applicationName = "";
        private Object self;

        static Connection open(FakePgServer.Backend backend) {
            FakeConnection c = new FakeConnection(backend);
            c.self = Proxy.newProxyInstance(FakePgDataSource.class.getClassLoader(),
                    new Class<?>[] {Connection.class, PGConnection.class, BaseConnection.class}, c);
            return (Connection) c.self;
        }

        private FakeConnection(FakePgServer.Backend backend) {
            this.backend = backend;
            this.sessionUser = backend.sessionUser;
        }

        String currentUser() {
            return backend.currentUser();
        }

        void setRole(String role) {
            backend.role = role;
        }

        /**
         * Runs one statement or a pipeline of them separated by ';', as pgjdbc's simple query protocol does, and
         * returns the first query's row (null when none ran): what {@code Statement.getResultSet()} then shows.
         */
        ResultSet run(String sql, Statement from) throws SQLException {
            java.util.List<ResultSet> results = runAll(sql, from);
            return results.isEmpty() ? null : results.get(0);
        }

        /**
         * As {@link #run}, with every query's result in order (what {@code getMoreResults()} steps through). The
         * statements run as one implicit transaction outside an explicit one: an error undoes the role they set.
         */
        java.util.List<ResultSet> runAll(String sql, Statement from) throws SQLException {
            if (backend.closed) {
                throw new SQLException("This connection has been closed.", "08003");
            }
            if (backend.killed) {
                backend.closed = true;
                throw new SQLException("FATAL: terminating connection due to administrator command", "57P01");
            }
            String[] parts = sql.split(";");
            boolean pipeline = parts.length > 1;
            String roleBefore = backend.role;
            if (!autoCommit && !inTransaction) {
                roleAtBegin = roleBefore;
            }
            java.util.List<ResultSet> results = new java.util.ArrayList<>();
            try {
                for (String part : parts) {
                    String s = part.trim();
                    String lower = s.toLowerCase(Locale.ROOT);
                    if (lower.isEmpty()) {
                        continue;
                    }
                    if (!autoCommit) {
                        inTransaction = true;
                    }
                    FakePgServer server = backend.server;
                    server.reached(backend, s, lower);
                    if (aborted) {
                        throw new SQLException("ERROR: current transaction is aborted, commands ignored until end of"
                                + " transaction block", "25P02");
                    }
                    ResultSet result = statement(server, s, lower, pipeline, from);
                    if (result != null) {
                        results.add(result);
                    }
                }
            } catch (SQLException e) {
                if (inTransaction) {
                    aborted = !backend.closed;
                } else {
                    backend.role = roleBefore; // the implicit transaction is undone
                }
                throw e;
            }
            return results;
        }

        private ResultSet statement(FakePgServer server, String s, String lower, boolean pipeline, Statement from)
                throws SQLException {
            if (lower.equals("set role none")) {
                setRole(null);
            } else if (lower.equals("reset role")) {
                setRole(backend.loginRole);
            } else if (lower.startsWith("set role ")) {
                String name = s.substring(9).trim();
                String role = name.startsWith("\"") ? name.substring(1, name.length() - 1).replace("\"\"", "\"") : name;
                server.checkSetRole(role);
                setRole(role);
            } else if (lower.startsWith("set application_name = e'")) {
                String literal = s.substring(s.indexOf('\'') + 1, s.length() - 1);
                applicationName = literal.replace("''", "'").replace("\\\\", "\\");
            } else if (lower.equals("reset all")) {
                applicationName = "";
            } else if (lower.contains(" as proxyra_role_setting ")) {
                // a switch's role settings: the fake's roles have none
                return FakeResultSet.labelled(java.util.List.of(), 1, "proxyra_role_setting", from);
            } else if (lower.startsWith("with proxy as")) {
                // proxyra's check of what the proxy role may reach: this fake's proxy role reaches nothing more
                return FakeResultSet.of(java.util.List.of(), 2, from);
            } else if (lower.startsWith("select d.name, d.fix from")) {
                return FakeResultSet.of(server.loginDefaults(backend), 2, from);
            } else if (lower.contains("from pg_catalog.pg_prepared_statements")) {
                // the reset's last statement: no SQL-prepared statement, never a temporary schema
                return FakeResultSet.of(new String[] {"0", "false"}, from);
            } else if (lower.equals("select pg_backend_pid()")) {
                return FakeResultSet.of(new String[] {Integer.toString(backend.pid)}, from);
            } else if (lower.startsWith("select")) {
                String[] row = lower.contains("session_user") && !lower.equals("select session_user")
                        ? new String[] {currentUser(), sessionUser}
                        : new String[] {lower.equals("select session_user") ? sessionUser : currentUser()};
                return FakeResultSet.of(row, from);
            } else if (lower.equals("discard all")) {
                if (pipeline || inTransaction) {
                    throw new SQLException("ERROR: DISCARD ALL cannot run inside a transaction block", "25001");
                }
                setRole(null); // DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT
            } else if (!SESSION_RESET.contains(lower) && !lower.startsWith("discard ")) {
                throw new SQLException("fake PostgreSQL does not understand: " + s, "42601");
            }
            return null;
        }

        /** What proxyra's identity change resets (RESET ALL leaves the role alone, as PostgreSQL does). */
        private static final java.util.Set<String> SESSION_RESET =
                java.util.Set.of("close all", "reset all", "deallocate all", "unlisten *");

        ResultSet query(String sql, Statement from) throws SQLException {
            ResultSet rs = run(sql, from);
            if (rs == null) {
                throw new SQLException("no result set: " + sql, "02000");
            }
            return rs;
        }

        private void endTransaction(boolean commit) {
            if (!commit || aborted) {
                backend.role = roleAtBegin; // COMMIT of an aborted transaction is a ROLLBACK
            }
            inTransaction = false;
            aborted = false;
        }

        private Object queryExecutor() {
            return Proxy.newProxyInstance(FakePgDataSource.class.getClassLoader(), new Class<?>[] {QueryExecutor.class},
                    (p, m, a) -> switch (m.getName()) {
                        case "getNotifications" -> new PGNotification[0];
                        case "getTransactionState" -> transactionState();
                        case "hashCode" -> System.identityHashCode(p);
                        case "equals" -> p == a[0];
                        case "toString" -> "FakeQueryExecutor";
                        default -> defaultValue(m.getReturnType());
                    });
        }

        private TransactionState transactionState() {
            return aborted ? TransactionState.FAILED : inTransaction ? TransactionState.OPEN : TransactionState.IDLE;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (backend.closed && method.getName().startsWith("prep") || backend.closed && method.getName().equals(
                    "createStatement")) {
                throw new SQLException("This connection has been closed.", "08003"); // pgjdbc's checkClosed()
            }
            switch (method.getName()) {
                case "createStatement":
                    return FakeStatement.open(this, null, Statement.class);
                case "prepareStatement":
                    return FakeStatement.open(this, (String) args[0], PreparedStatement.class);
                case "prepareCall":
                    return FakeStatement.open(this, (String) args[0], CallableStatement.class);
                case "getAutoCommit":
                    return autoCommit;
                case "setAutoCommit":
                    if ((Boolean) args[0] && !autoCommit && inTransaction) {
                        endTransaction(true); // JDBC: switching auto-commit on commits
                    }
                    autoCommit = (Boolean) args[0];
                    return null;
                case "commit":
                case "rollback":
                    if (backend.closed) {
                        throw new SQLException("This connection has been closed.", "08003");
                    }
                    if (inTransaction) {
                        endTransaction(method.getName().equals("commit"));
                    }
                    return null;
                case "getTransactionState":
                    return transactionState();
                case "getQueryExecutor":
                    return queryExecutor();
                case "getNotifications":
                    return new PGNotification[0];
                case "clearWarnings":
                case "setReadOnly":
                case "setTransactionIsolation":
                case "setHoldability":
                case "setCatalog":
                case "setSchema":
                case "setClientInfo":
                case "setNetworkTimeout":
                    return null;
                case "close":
                case "abort":
                    backend.closed = true;
                    return null;
                case "isClosed":
                    return backend.closed;
                case "isValid":
                    backend.validations.incrementAndGet();
                    // pgjdbc sends an empty query: a terminated backend answers with its FATAL error, and is closed
                    if (backend.killed && !backend.server.validatesLocally()) {
                        backend.closed = true;
                    }
                    return !backend.closed;
                case "getBackendPID":
                    return backend.pid;
                case "getParameterStatus":
                    return "application_name".equals(args[0]) ? applicationName : null;
                case "getTransactionIsolation":
                    return Connection.TRANSACTION_READ_COMMITTED;
                case "getHoldability":
                    return ResultSet.HOLD_CURSORS_OVER_COMMIT;
                case "isReadOnly":
                    return false;
                case "getCatalog":
                    return "postgres";
                case "getSchema":
                    return "public";
                case "getNetworkTimeout":
                    return 0;
                case "escapeIdentifier":
                    return "\"" + ((String) args[0]).replace("\"", "\"\"") + "\"";
                case "getMetaData":
                    return metaData();
                case "unwrap":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                    throw new SQLException("not a wrapper for " + args[0]);
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(proxy);
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "FakePgConnection[" + currentUser() + "]";
                default:
                    return defaultValue(method.getReturnType());
            }
        }

        private Object metaData() {
            return Proxy.newProxyInstance(FakePgDataSource.class.getClassLoader(),
                    new Class<?>[] {DatabaseMetaData.class}, (p, m, a) -> switch (m.getName()) {
                        case "getDatabaseProductName" -> "PostgreSQL";
                        case "getDatabaseProductVersion" -> "17.0";
                        case "getDriverName" -> "fake";
                        case "getDriverVersion" -> "0";
                        case "getUserName" -> sessionUser;
                        case "getURL" -> "jdbc:postgresql://fake/postgres";
                        case "getConnection" -> self;
                        case "hashCode" -> System.identityHashCode(p);
                        case "equals" -> p == a[0];
                        case "toString" -> "FakeMetaData";
                        default -> defaultValue(m.getReturnType());
                    });
        }
    }

    /** Statement, PreparedStatement and CallableStatement. */
    static final class FakeStatement implements InvocationHandler {
        private final FakeConnection connection;
        private final String sql;
        private Object self;
        private ResultSet last;
        private java.util.List<ResultSet> pending = new java.util.ArrayList<>();
        private String parameter;

        static Object open(FakeConnection connection, String sql, Class<?> type) {
            FakeStatement s = new FakeStatement(connection, sql);
            s.self = Proxy.newProxyInstance(FakePgDataSource.class.getClassLoader(), new Class<?>[] {type}, s);
            return s.self;
        }

        private FakeStatement(FakeConnection connection, String sql) {
            this.connection = connection;
            this.sql = sql;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String text = args != null && args.length > 0 && args[0] instanceof String q ? q : sql;
            switch (method.getName()) {
                case "executeQuery":
                    last = connection.query(text, (Statement) self);
                    if (text.contains("set_config('role', ?")) {
                        connection.setRole("none".equals(parameter) ? null : parameter); // SET ROLE after the row was read
                    }
                    return last;
                case "execute":
                    pending = connection.runAll(text, (Statement) self);
                    last = pending.isEmpty() ? null : pending.remove(0);
                    return last != null;
                case "getMoreResults":
                    last = pending.isEmpty() ? null : pending.remove(0);
                    return last != null;
                case "executeUpdate":
                    connection.run(text, (Statement) self);
                    return 0;
                case "getResultSet":
                    return last;
                case "getConnection":
                    return connection.self;
                case "setString":
                    parameter = (String) args[1];
                    return null;
                case "close":
                case "setInt":
                case "setObject":
                case "clearParameters":
                case "clearWarnings":
                case "setQueryTimeout":
                case "setFetchSize":
                case "setMaxRows":
                case "setEscapeProcessing":
                case "setPoolable":
                    return null;
                case "isClosed":
                    return false;
                case "getUpdateCount":
                    return -1;
                case "unwrap":
                    return proxy;
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(proxy);
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "FakeStatement";
                default:
                    return defaultValue(method.getReturnType());
            }
        }
    }

    /** A result of rows of strings. */
    static final class FakeResultSet implements InvocationHandler {
        private final java.util.List<String[]> rows;
        private final int columns;
        private final Statement statement;
        private int position;

        /** One row, or none ({@code row} null). */
        static ResultSet of(String[] row, Statement statement) {
            return of(row == null ? java.util.List.of() : java.util.List.<String[]>of(row), row == null ? 0 : row.length,
                    statement);
        }

        static ResultSet of(java.util.List<String[]> rows, int columns, Statement statement) {
            return labelled(rows, columns, "?column?", statement);
        }

        static ResultSet labelled(java.util.List<String[]> rows, int columns, String label, Statement statement) {
            FakeResultSet result = new FakeResultSet(rows, columns, statement);
            result.label = label;
            return (ResultSet) Proxy.newProxyInstance(FakePgDataSource.class.getClassLoader(),
                    new Class<?>[] {ResultSet.class}, result);
        }

        private String label;

        private FakeResultSet(java.util.List<String[]> rows, int columns, Statement statement) {
            this.rows = rows;
            this.columns = columns;
            this.statement = statement;
        }

        private String column(Object index) throws SQLException {
            if (position < 1 || position > rows.size()) {
                throw new SQLException("ResultSet not positioned properly, perhaps you need to call next.", "24000");
            }
            return rows.get(position - 1)[index instanceof Integer i ? i - 1 : 0];
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "next":
                    return ++position <= rows.size();
                case "getString":
                case "getObject":
                    return column(args[0]);
                case "getBoolean":
                    return Boolean.parseBoolean(column(args[0]));
                case "getInt":
                    return Integer.parseInt(column(args[0]));
                case "getMetaData":
                    return Proxy.newProxyInstance(FakePgDataSource.class.getClassLoader(),
                            new Class<?>[] {java.sql.ResultSetMetaData.class}, (p, m, a) -> switch (m.getName()) {
                                case "getColumnCount" -> columns;
                                case "getColumnLabel" -> label;
                                case "hashCode" -> System.identityHashCode(p);
                                case "equals" -> p == a[0];
                                case "toString" -> "FakeResultSetMetaData";
                                default -> throw new SQLException("fake PostgreSQL: ResultSetMetaData." + m.getName());
                            });
                case "getStatement":
                    return statement;
                case "close":
                    return null;
                case "isClosed":
                    return false;
                case "wasNull":
                    return false;
                case "unwrap":
                    return proxy;
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(proxy);
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "FakeResultSet";
                default:
                    return defaultValue(method.getReturnType());
            }
        }
    }

    static Object defaultValue(Class<?> type) {
        if (!type.isPrimitive() || type == void.class) {
            return null;
        }
        if (type == boolean.class) {
            return false;
        }
        if (type == long.class) {
            return 0L;
        }
        if (type == double.class) {
            return 0.0;
        }
        if (type == float.class) {
            return 0f;
        }
        if (type == char.class) {
            return '\0';
        }
        if (type == byte.class) {
            return (byte) 0;
        }
        if (type == short.class) {
            return (short) 0;
        }
        return 0;
    }
}
