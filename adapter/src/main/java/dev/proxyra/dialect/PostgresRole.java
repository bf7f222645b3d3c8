package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.postgresql.PGConnection;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

import dev.proxyra.SqlState;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.identity.DbIdentity;

/**
 * PostgreSQL: the pool logs in as a proxy role that is a member of the callers' roles; each identity
 * is a {@code SET ROLE} with a safely quoted name, {@code RESET ROLE} returns to the proxy role. With
 * {@code RoleSwitch=SET_USER} the identity is the set_user extension's instead ({@link PostgresSetUser}).
 */
public final class PostgresRole implements Dialect {
    /** Null: SET ROLE. */
    private final PostgresSetUser setUser;
    /** ClientIdentifier: the caller's name as application_name. */
    private final boolean callerAsApplicationName;
    private final PostgresCallerSettings.KnownWithout knownWithoutSettings;

    public PostgresRole() {
        this(ProxyraConfig.RoleSwitch.SET_ROLE, true);
    }

    public PostgresRole(ProxyraConfig.RoleSwitch roleSwitch) {
        this(roleSwitch, true);
    }

    public PostgresRole(ProxyraConfig.RoleSwitch roleSwitch, boolean callerAsApplicationName) {
        this(roleSwitch, callerAsApplicationName, PostgresCallerSettings.KnownWithout.FRESH_SECONDS);
    }

    /** {@code roleSettingsCacheSeconds}: RoleSettingsCacheSeconds, how long a role without settings is not asked again. */
    public PostgresRole(ProxyraConfig.RoleSwitch roleSwitch, boolean callerAsApplicationName,
            long roleSettingsCacheSeconds) {
        this.setUser = roleSwitch == ProxyraConfig.RoleSwitch.SET_USER ? new PostgresSetUser() : null;
        this.callerAsApplicationName = callerAsApplicationName;
        this.knownWithoutSettings = new PostgresCallerSettings.KnownWithout(System::nanoTime, roleSettingsCacheSeconds);
    }

    /** Between two words of a statement: white space and comments, block or to the end of the line. */
    private static final String GAP = "(?:\\s|/\\*.*?\\*/|--[^\\r\\n]*(?:[\\r\\n]|$))+";

    /**
     * Statements that can change current_user: SET [SESSION|LOCAL] ROLE, RESET ROLE, RESET ALL,
     * SET SESSION AUTHORIZATION, set_config(...), DISCARD ALL, with comments between the words and the
     * setting's name quoted ({@code SET "role" TO bob}); any Unicode-escaped identifier ({@code U&"..."}, which can
     * spell role). Deliberately broad: a false positive only costs one reconnect. Not a security control:
     * a role set by SQL the text does not show (a function, EXECUTE of a built string, a nested comment) passes;
     * IdentityCheck=VERIFY asks the database instead.
     */
    private static final Pattern ROLE_CHANGE = Pattern.compile(
            "(?is)\\b(?:set" + GAP + "(?:(?:session|local)" + GAP + ")?(?:\"role\"|role\\b)"
                    + "|reset" + GAP + "(?:\"role\"|\"session_authorization\"|(?:role|all|session)\\b)"
                    + "|session" + GAP + "authorization\\b|set_config\\b|discard\\b)|\"set_config\"|\\bu&\"");

    @Override
    public String connectionFactoryClassName() {
        return PostgresDataSource.class.getName();
    }

    @Override
    public Map<String, String> connectionFactoryProperties(ProxyraConfig config) {
        // UCP ignores setURL for this factory class; it must be a factory property.
        if (config.networkTimeout() == 0) {
            return Map.of("url", config.url());
        }
        String seconds = Integer.toString(config.networkTimeout());
        return Map.of("url", config.url(), "socketTimeout", seconds, "connectTimeout", seconds, "loginTimeout", seconds);
    }

    @Override
    public Map<String, String> connectionProperties(ProxyraConfig config) {
        return Map.of();
    }

    /**
     * The proxy account's own identity: SET ROLE NONE is the login role itself, where RESET ROLE would be
     * whatever role default ALTER ROLE or ALTER DATABASE gave the session.
     */
    private static final String BACK_TO_LOGIN_ROLE = "SET ROLE NONE";

    /** Asked before a reused session serves another identity, in the same round trip as the switch. */
    static final String WHO_AM_I = "select current_user, session_user";

    /**
     * What DISCARD ALL does to what a caller can leave behind, as statements that may share one round trip (DISCARD
     * ALL itself refuses to run in a pipeline): settings (including SET SESSION CHARACTERISTICS and custom variables:
     * {@link #RESET_SETTINGS}, after which the next identity's own settings are applied), then cursors, LISTEN,
     * session advisory locks, temporary objects and sequence state; last, whether SQL PREPAREd
     * statements exist, which are then deallocated in a second round trip ({@link #DEALLOCATE_SQL_PREPARED}), and
     * whether the session ever had a temporary schema ({@link #TEMPORARY_SCHEMA_USED}). Everything after the settings
     * cannot be undone by PostgreSQL's rollback of a failed round trip (advisory locks, a holdable cursor, sequence
     * caches), so it comes after the last statement that may fail for the identity (its settings), and names its
     * functions and operators schema-qualified, since it runs with the next role's search_path.
     * Not dropped: the driver's own protocol-level prepared statements and the plans cached for them. They hold
     * no caller's data; PostgreSQL plans again when the role, search_path or a relation they use changes (RLS
     * included), and keeping them spares every request after a switch parsing and planning its statements anew.
     */
    static final String RESET_SESSION_STATE = "CLOSE ALL; UNLISTEN *; SELECT pg_catalog.pg_advisory_unlock_all();"
            + " DISCARD TEMP; DISCARD SEQUENCES;"
            + " SELECT pg_catalog.count(*), pg_catalog.pg_my_temp_schema() OPERATOR(pg_catalog.<>) 0"
            + " FROM pg_catalog.pg_prepared_statements WHERE from_sql";

    /** The settings part of the reset, transactional: it comes first. */
    static final String RESET_SETTINGS = "RESET ALL";

    /** The whole reset, for a session that goes back to the proxy account. */
    static final String RESET_SESSION = RESET_SETTINGS + "; " + RESET_SESSION_STATE;

    /**
     * pgjdbc caches the type names it resolved (PGobject parameters, createArrayOf) per connection, a plain name by
     * the search_path of the moment, an array's element type among every schema of the session, the temporary one
     * included, and nothing clears that cache: once a caller's temporary type (a temporary table's row type too) has been dropped, the
     * next caller's value of a type with the same name would be sent as the dropped one ("cache lookup failed
     * for type"). A session whose backend ever made a temporary schema (pg_my_temp_schema() stays set after DISCARD
     * TEMP and after its objects were dropped) therefore serves no other identity: it is discarded at the switch.
     * Sessions that never made one pay a function call for the check.
     */
    static final String TEMPORARY_SCHEMA_USED = "proxyra: the session had temporary objects, which the driver's type"
            + " cache may still name; it serves no other identity";

    /** Only after a caller used SQL PREPARE; pgjdbc notices DEALLOCATE ALL and prepares its statements again. */
    static final String DEALLOCATE_SQL_PREPARED = "DEALLOCATE ALL";

    /**
     * A fresh session: whether its login gave it role defaults, then the role. A reused one: [the check;] the
     * role; the reset. Each as one pipeline, so one round trip. The role comes first: when the database refuses it, nothing after it runs and the session
     * is exactly as it was (PostgreSQL runs a pipeline as one implicit transaction and undoes it on error),
     * still running as {@code previous} with its state. Should anything after the role fail, the whole
     * pipeline is undone too, but the caller discards such a session anyway.
     */
    @Override
    public boolean changeIdentity(Connection physical, DbIdentity previous, DbIdentity next, boolean verify)
            throws SQLException {
        if (setUser != null) {
            return changeIdentityWithSetUser(physical, previous, next, verify);
        }
        String setRole = setRole(physical, next);
        if (previous == null) {
            // A new session: first, in the same round trip, whether it got role defaults at login (see
            // PostgresProxyRole); the role follows, so that a refused role leaves the session as it logged in.
            try (Statement s = physical.createStatement()) {
                boolean askSettings = askSettings(next);
                execute(s, next, askSettings, PostgresProxyRole.LOGIN_DEFAULTS + "; " + setRole
                        + callerSettings(next, askSettings));
                try (ResultSet rs = s.getResultSet()) {
                    PostgresProxyRole.requireNoLoginDefaults(rs);
                }
                while (askSettings && (s.getMoreResults() || s.getUpdateCount() != -1)) {
                    try (ResultSet rs = s.getResultSet()) {
                        int applied = rs == null ? -1 : PostgresCallerSettings.KnownWithout.applied(rs);
                        if (applied >= 0) {
                            knownWithoutSettings.found(next.databaseUser(), applied);
                        }
                    }
                }
            }
            return true;
        }
        boolean askSettings = askSettings(next);
        String sql = (verify ? WHO_AM_I + "; " : "") + setRole + "; " + RESET_SETTINGS + callerSettings(next, askSettings)
                + "; " + RESET_SESSION_STATE;
        boolean ranAsPrevious = true;
        try (Statement s = physical.createStatement()) {
            execute(s, next, askSettings, sql);
            if (verify) {
                try (ResultSet rs = s.getResultSet()) {
                    ranAsPrevious = runsAs(rs, previous);
                }
            }
            // the last result: the count of SQL-prepared statements, and whether a temporary schema was ever made
            String sqlPrepared = null;
            boolean temporarySchema = true;
            while (s.getMoreResults() || s.getUpdateCount() != -1) {
                ResultSet rs = s.getResultSet();
                if (rs != null) {
                    try (rs) {
                        int applied = askSettings ? PostgresCallerSettings.KnownWithout.applied(rs) : -1;
                        if (applied >= 0) {
                            knownWithoutSettings.found(next.databaseUser(), applied);
                            continue;
                        }
                        boolean row = rs.next();
                        sqlPrepared = row ? rs.getString(1) : null;
                        temporarySchema = !row || rs.getMetaData().getColumnCount() < 2 || rs.getBoolean(2);
                    }
                }
            }
            if (temporarySchema) {
                if (!ranAsPrevious) {
                    return false; // discarded either way; counted as the escape it is
                }
                throw new SQLException(TEMPORARY_SCHEMA_USED, SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE);
            }
            if (sqlPrepared == null || !sqlPrepared.equals("0")) {
                s.execute(DEALLOCATE_SQL_PREPARED);
            }
        }
        // Notifications the previous identity's LISTEN delivered before UNLISTEN, buffered by the driver: taken off
        // its queue without I/O (PGConnection.getNotifications() first polls the socket with a 1 ms timeout).
        physical.unwrap(BaseConnection.class).getQueryExecutor().getNotifications();
        return ranAsPrevious;
    }

    /**
     * The identity's own settings and the caller's application_name, in the switch's round trip, after the role (SET
     * ROLE mode: the role is current_user by then); nothing for the proxy account.
     */
    private String callerSettings(DbIdentity next, boolean askSettings) {
        String applicationName = applicationName(next);
        if (next.isProxyAccount()) {
            return "";
        }
        if (!askSettings) {
            return applicationName == null ? "" : "; " + PostgresCallerSettings.setApplicationName(applicationName);
        }
        return "; " + PostgresCallerSettings.apply("current_user", applicationName, null);
    }

    /** Whether the switch to {@code next} asks for its role's settings: not when it recently had none. */
    private boolean askSettings(DbIdentity next) {
        return !next.isProxyAccount() && !knownWithoutSettings.has(next.databaseUser());
    }

    /** The application_name for {@code identity}'s caller; null when ClientIdentifier is off or there is no caller. */
    String applicationName(DbIdentity identity) {
        return callerAsApplicationName ? PostgresCallerSettings.applicationNameFor(identity.caller()) : null;
    }

    /** Runs the switch; a refusal when the role's settings were asked for says what it may mean. */
    private static void execute(Statement s, DbIdentity next, boolean askedSettings, String sql) throws SQLException {
        try {
            s.execute(sql);
        } catch (SQLException e) {
            if (!askedSettings || !SqlState.INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                throw e; // set_config's refusal of a setting is 42501, as is SET ROLE's of the role
            }
            throw PostgresCallerSettings.refused(next.databaseUser(), e);
        }
    }

    /**
     * RoleSwitch=SET_USER. A fresh session: the check of its login defaults, then set_user. A reused one: [the check,] reset_user, in one
     * round trip and only when {@code next} may be switched to, so a refusal leaves the session as it was; then the
     * reset and set_user in another (set_user acts at its transaction's commit, and refuses to share a transaction
     * with reset_user's).
     */
    private boolean changeIdentityWithSetUser(Connection physical, DbIdentity previous, DbIdentity next,
                                              boolean verify) throws SQLException {
        if (previous == null) {
            // whether the login gave the session role defaults, as in SET ROLE mode; a round trip of its own, once per
            // physical connection, so that set_user's statement stays alone in its transaction
            try (Statement s = physical.createStatement(); ResultSet rs = s.executeQuery(PostgresProxyRole.LOGIN_DEFAULTS)) {
                PostgresProxyRole.requireNoLoginDefaults(rs);
            }
            if (next.isProxyAccount()) {
                setUser.checkFresh(physical);
                try (Statement s = physical.createStatement()) {
                    s.execute(BACK_TO_LOGIN_ROLE);
                }
            } else {
                setUser.enterFresh(physical, next, applicationName(next));
            }
            return true;
        }
        if (!setUser.leave(physical, previous, next, verify)) {
            return false;
        }
        List<String> values = new ArrayList<>();
        if (next.isProxyAccount()) {
            try (Statement s = physical.createStatement()) {
                values = values(s, s.execute(BACK_TO_LOGIN_ROLE + "; " + RESET_SESSION));
            }
        } else {
            // the role's settings and application_name, as the proxy role, before set_user (see PostgresCallerSettings)
            boolean askSettings = askSettings(next);
            String applicationName = applicationName(next);
            String settings = askSettings ? "; " + PostgresCallerSettings.apply("?::pg_catalog.text", applicationName, null)
                    : applicationName == null ? "" : "; " + PostgresCallerSettings.setApplicationName(applicationName);
            String reset = RESET_SETTINGS + settings + "; " + RESET_SESSION_STATE;
            try (PreparedStatement s = setUser.resetAndEnter(physical, reset, askSettings ? 1 : 0, next)) {
                boolean first;
                try {
                    first = s.execute();
                } catch (SQLException e) {
                    throw setUser.afterFailedEnter(physical, previous, next, e);
                }
                for (boolean isResultSet = first; isResultSet || s.getUpdateCount() != -1;
                     isResultSet = s.getMoreResults()) {
                    if (isResultSet) {
                        try (ResultSet rs = s.getResultSet()) {
                            int applied = askSettings ? PostgresCallerSettings.KnownWithout.applied(rs) : -1;
                            if (applied >= 0) {
                                knownWithoutSettings.found(next.databaseUser(), applied);
                            } else {
                                values.add(rs.next() ? rs.getString(1) : null);
                            }
                        }
                    }
                }
                values.remove(values.size() - 1); // set_user's
            }
        }
        String sqlPrepared = values.isEmpty() ? null : values.get(values.size() - 1);
        if (sqlPrepared == null || !sqlPrepared.equals("0")) {
            try (Statement s = physical.createStatement()) {
                s.execute(DEALLOCATE_SQL_PREPARED);
            }
        }
        physical.unwrap(BaseConnection.class).getQueryExecutor().getNotifications();
        return true;
    }

    /** The first column of the first row of every result of {@code s}, in order (null for an empty one). */
    private static List<String> values(Statement s, boolean resultSet) throws SQLException {
        List<String> values = new ArrayList<>();
        for (boolean isResultSet = resultSet; isResultSet || s.getUpdateCount() != -1; isResultSet = s.getMoreResults()) {
            if (isResultSet) {
                try (ResultSet rs = s.getResultSet()) {
                    values.add(rs.next() ? rs.getString(1) : null);
                }
            }
        }
        return values;
    }

    private static String setRole(Connection physical, DbIdentity identity) throws SQLException {
        if (identity.isProxyAccount()) {
            return BACK_TO_LOGIN_ROLE;
        }
        if ("none".equals(identity.databaseUser())) {
            // PostgreSQL reads the value none, quoted or not, as SET ROLE NONE: back to the login role.
            throw new SQLException("role \"none\" cannot be set: PostgreSQL reads SET ROLE \"none\" as SET ROLE NONE"
                    + " (the proxy account itself)", SqlState.INVALID_PARAMETER_VALUE);
        }
        return "SET ROLE " + physical.unwrap(PGConnection.class).escapeIdentifier(identity.databaseUser());
    }

    @Override
    public void checkProxyAccount(Connection physical) throws SQLException {
        PostgresProxyRole.check(physical);
    }

    @Override
    public void checkTwoPhase(Connection physical) throws SQLException {
        PostgresTwoPhase.checkEnabled(physical);
    }

    @Override
    public DbIdentity identityAfterRefusal(DbIdentity previous) {
        return previous;
    }

    @Override
    public void reset(Connection physical) throws SQLException {
        if (setUser != null) {
            setUser.reset(physical);
        }
        try (Statement s = physical.createStatement()) {
            s.execute(BACK_TO_LOGIN_ROLE);
        }
    }

    @Override
    public boolean identityIntact(Connection physical, DbIdentity identity) {
        return true; // the driver does not know the role: only verify() can tell
    }

    /** pgjdbc's own isValid, past the connection UCP validates locally. */
    @Override
    public boolean isValid(Connection physical, int timeoutSeconds) throws SQLException {
        return physical.unwrap(BaseConnection.class).isValid(timeoutSeconds);
    }

    @Override
    public boolean poolValidatesLocally(String connectionFactoryClassName) {
        return PostgresDataSource.class.getName().equals(connectionFactoryClassName);
    }

    /** pgjdbc's network timeout is a socket read timeout, set and put back without a round trip. */
    @Override
    public <T> T bounded(Connection physical, int seconds, RoundTrip<T> roundTrip) throws SQLException {
        if (seconds == 0) {
            return roundTrip.run();
        }
        BaseConnection pg = physical.unwrap(BaseConnection.class);
        int saved = pg.getNetworkTimeout();
        int bound = saved == 0 ? seconds * 1000 : Math.min(saved, seconds * 1000);
        if (bound == saved) {
            return roundTrip.run();
        }
        pg.setNetworkTimeout(null, bound);
        T result;
        try {
            result = roundTrip.run();
        } catch (SQLException | RuntimeException | Error e) {
            // a session refused a role goes back to the pool: it must not keep the bound
            try {
                if (!pg.isClosed()) {
                    pg.setNetworkTimeout(null, saved);
                }
            } catch (SQLException notPutBack) {
                e.addSuppressed(notPutBack);
            }
            throw e;
        }
        pg.setNetworkTimeout(null, saved);
        return result;
    }

    @Override
    public void endUnfinishedWork(Connection physical, int seconds) throws SQLException {
        BaseConnection pg = physical.unwrap(BaseConnection.class);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
        bounded(physical, seconds, () -> {
            PostgresCopy.endStarted(pg, deadline);
            return null;
        });
    }

    @Override
    public boolean transactionOpen(Connection physical) throws SQLException {
        // The driver's record of the backend's last ReadyForQuery: a BEGIN run as SQL shows here, while
        // getAutoCommit() still says true.
        return physical.unwrap(BaseConnection.class).getTransactionState() != TransactionState.IDLE;
    }

    /** A cancel request on a connection of its own: it does not wait for the session's lock that the calls hold. */
    @Override
    public void cancelRunning(Connection physical) {
        try {
            physical.unwrap(PGConnection.class).cancelQuery();
        } catch (SQLException | RuntimeException e) {
            // the session is discarded anyway; closing it ends what the cancel did not
        }
    }

    @Override
    public boolean closeIdentitiesOnShutdown() {
        return false;
    }

    @Override
    public boolean tagsClients() {
        return callerAsApplicationName;
    }

    /** The application's SQL may have changed application_name: every borrow compares, locally. */
    @Override
    public boolean clientTagSurvivesReturn() {
        return false;
    }

    /**
     * application_name is reported by the server whenever it changes, so the driver knows it without asking: a switch
     * set it in its own round trip, as did an identity check that found it changed ({@link #verify}); only a warm
     * borrow without that check (IdentityCheck=SCAN) whose application changed it with SQL costs a round trip here.
     */
    @Override
    public void tagClient(Connection physical, String clientIdentifier) throws SQLException {
        String want = PostgresCallerSettings.applicationNameFor(clientIdentifier);
        if (want != null && !applicationNameIs(physical, want)) {
            try (Statement s = physical.createStatement()) {
                s.execute(PostgresCallerSettings.setApplicationName(want));
            }
        }
    }

    private static boolean applicationNameIs(Connection physical, String want) throws SQLException {
        return want.equals(physical.unwrap(PGConnection.class).getParameterStatus("application_name"));
    }

    @Override
    public boolean identityChangeableBySql() {
        return true;
    }

    @Override
    public boolean verify(Connection physical, DbIdentity identity) throws SQLException {
        String applicationName = applicationName(identity);
        if (applicationName != null && !applicationNameIs(physical, applicationName)) {
            // the application changed it, or another caller of the same role had the session: set with the check
            try (Statement s = physical.createStatement()) {
                s.execute(WHO_AM_I + "; " + PostgresCallerSettings.setApplicationName(applicationName));
                try (ResultSet rs = s.getResultSet()) {
                    return runsAs(rs, identity);
                }
            }
        }
        // Prepared: pgjdbc's per-connection statement cache turns it into a server-side prepared statement
        // after prepareThreshold uses, so the server neither parses nor plans it per check.
        try (PreparedStatement s = physical.prepareStatement(WHO_AM_I); ResultSet rs = s.executeQuery()) {
            return runsAs(rs, identity);
        }
    }

    static boolean runsAs(ResultSet rs, DbIdentity identity) throws SQLException {
        if (!rs.next()) {
            return false;
        }
        String current = rs.getString(1);
        return identity.isProxyAccount() ? current.equals(rs.getString(2)) : current.equals(identity.databaseUser());
    }

    @Override
    public boolean endsTransaction(String sql) {
        return sql != null && PostgresStatements.endsTransaction(sql);
    }

    @Override
    public boolean mayChangeIdentity(String sql) {
        return sql != null && mayMatch(sql) && ROLE_CHANGE.matcher(sql).find();
    }

    private static final String[] KEYWORDS = {"role", "reset", "session", "authorization", "set_config", "discard", "u&"};

    /** Every text ROLE_CHANGE matches contains one of these words: most SQL skips the regex and its Matcher. */
    private static boolean mayMatch(String sql) {
        for (int i = 0, n = sql.length(); i < n; i++) {
            char c = (char) (sql.charAt(i) | 0x20);
            if (c == 'r' || c == 's' || c == 'a' || c == 'd' || c == 'u') {
                for (String k : KEYWORDS) {
                    if (sql.regionMatches(true, i, k, 0, k.length())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Override
    public ErrorKind classify(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            String state = x.getSQLState();
            // 57P01 admin shutdown (pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect now
            if (Dialect.isConnectionState(x) || SqlState.ADMIN_SHUTDOWN.equals(state)
                    || SqlState.CRASH_SHUTDOWN.equals(state) || SqlState.CANNOT_CONNECT_NOW.equals(state)) {
                return ErrorKind.FATAL;
            }
        }
        return ErrorKind.OTHER;
    }

    @Override
    public boolean isNotAuthorized(SQLException e) {
        String state = e.getSQLState();
        // 42501 permission denied to set role, 22023 role does not exist, class 28 authorization
        return SqlState.INSUFFICIENT_PRIVILEGE.equals(state) || SqlState.INVALID_PARAMETER_VALUE.equals(state)
                || SqlState.isAuthorization(state);
    }

    /**
     * PGConnection's helpers that neither change the session nor outlive the handle. Left out: the
     * large-object, fastpath and replication APIs and addDataType (they hold or change the physical
     * connection), setters of driver settings that would reach the next borrower (prepare threshold, fetch
     * size, query timeout, autosave, adaptive fetch), cancelQuery and alterUserPassword.
     */
    private static final VendorInterface PG_CONNECTION = new VendorInterface(PGConnection.class, java.util.Set.of(
            "createArrayOf", "getNotifications", "getCopyAPI", "getPrepareThreshold", "getDefaultFetchSize",
            "getQueryTimeout", "getBackendPID", "escapeIdentifier", "escapeLiteral", "getPreferQueryMode", "getAutosave",
            "getParameterStatuses", "getParameterStatus", "getAdaptiveFetch"),
            "plain JDBC (Statement.setFetchSize, setQueryTimeout, Blob/Clob for large objects) or SQL",
            PostgresCopy::bind);

    @Override
    public Class<?> offeredVendorInterface() {
        return PGConnection.class;
    }

    @Override
    public VendorInterface vendorInterface(Class<?> iface) {
        return iface == PGConnection.class ? PG_CONNECTION : null;
    }
}
