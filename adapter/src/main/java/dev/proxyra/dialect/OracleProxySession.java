package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import oracle.jdbc.OracleConnection;

import dev.proxyra.SqlState;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.identity.DbIdentity;

/**
 * Oracle: the pool logs in as the proxy user; each identity is a proxy session opened with
 * {@code openProxySession(PROXYTYPE_USER_NAME, ...)} and closed with {@code close(PROXY_SESSION)}.
 * The database enforces {@code GRANT CONNECT THROUGH}, and SQL cannot leave a proxy session.
 */
public final class OracleProxySession implements Dialect {
    /** Vendor codes that mean the physical connection is gone. */
    private static final Set<Integer> FATAL_CODES = Set.of(28, 1012, 1033, 1034, 1089, 1092, 3113, 3114, 3135,
            17002, 17008, 17410, 17447);
    /**
     * Refusals of one user, not faults of the session: proxy not authorized (28150), no client name (28179), bad
     * password (1017), locked (28000), expired (28001), no CREATE SESSION (1045), the proxy may not set these roles
     * (28156, 28157), role not granted (1924), session limits of the user's profile or the instance (2391, 18), and
     * a logon trigger that failed: raise_application_error (20000-20999), reported through ORA-04088 or ORA-00604.
     * ORA-17150: the driver's own check of PROXY_USER_NAME, before any network call.
     */
    private static final Set<Integer> NOT_AUTHORIZED_CODES = Set.of(28150, 28179, 1017, 28000, 28001, 1045, 28156,
            28157, 1924, 2391, 18, 4088, 604, 17150);
    /**
     * ojdbc's limit for OCSID.CLIENTID, OCSID.MODULE and OCSID.ACTION with a 12.1 or later server, in UTF-16 chars
     * (String.length); past it setClientInfo fails (SQLClientInfoException caused by ORA-17159). ojdbc 23.26 keeps
     * 48 for MODULE and 32 for ACTION only with servers before 11.2.0.2 (PhysicalConnection.versionDependentInit).
     */
    static final int CLIENT_IDENTIFIER_MAX_CHARS = 64;
    static final int MODULE_MAX_CHARS = 64;
    static final int ACTION_MAX_CHARS = 64;

    @Override
    public String connectionFactoryClassName() {
        return "oracle.jdbc.pool.OracleDataSource";
    }

    @Override
    public Map<String, String> connectionFactoryProperties(ProxyraConfig config) {
        return Map.of();
    }

    /**
     * Application Continuity is off: ojdbc's {@code enableACSupport} (default true) makes every connection of
     * {@code oracle.jdbc.pool.OracleDataSource} a replay proxy, which after a failover replays the request on a new
     * session that UCP's labelling does not make the caller's again, i.e. as the proxy account. Without a replay
     * proxy the statement after a lost session fails (a fatal error: the connection is discarded), never replayed.
     */
    @Override
    public Map<String, String> connectionProperties(ProxyraConfig config) {
        Map<String, String> props = new java.util.HashMap<>();
        props.put(OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, "false");
        if (config.networkTimeout() > 0) {
            String millis = Long.toString(config.networkTimeout() * 1000L);
            props.put(OracleConnection.CONNECTION_PROPERTY_THIN_READ_TIMEOUT, millis);
            props.put(OracleConnection.CONNECTION_PROPERTY_THIN_NET_CONNECT_TIMEOUT, millis);
        }
        return Map.copyOf(props);
    }

    /** URL forms that ask for a pooled server (DRCP): easy connect {@code ...:POOLED}, a descriptor (SERVER=POOLED). */
    private static final java.util.regex.Pattern POOLED_SERVER = java.util.regex.Pattern.compile(
            "\\(\\s*SERVER\\s*=\\s*POOLED\\s*\\)|:POOLED(\\?.*)?$", java.util.regex.Pattern.CASE_INSENSITIVE);

    /**
     * Refused: the replay factories ({@code oracle.jdbc.replay.*}) and ojdbc's AC switched on for the whole JVM
     * (the system property outranks the connection property); a pooled-server (DRCP) URL, where the server
     * session under a proxy session is not the connection's own; a User of the form {@code PROXY[CLIENT]}, which
     * makes every physical connection a proxy session already.
     */
    @Override
    public void checkConfiguration(ProxyraConfig config, String factoryClassName, String user) throws SQLException {
        String problem = null;
        if (factoryClassName.startsWith("oracle.jdbc.replay.")) {
            problem = "ConnectionFactoryClassName=" + factoryClassName + " is an Application Continuity (replay) factory:"
                    + " a replayed request would run on a new session as the proxy account, not the caller; use"
                    + " oracle.jdbc.pool.OracleDataSource (proxyra sets oracle.jdbc.enableACSupport=false)";
        } else if ("true".equalsIgnoreCase(System.getProperty(OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT))) {
            problem = "the JVM system property " + OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT + "=true turns"
                    + " Application Continuity on for every ojdbc connection, over proxyra's connection property: a"
                    + " replayed request would run as the proxy account; remove it or set it to false";
        } else if (config.url() != null && POOLED_SERVER.matcher(config.url().trim()).find()) {
            problem = "URL asks for a pooled server (DRCP: (SERVER=POOLED) or :POOLED), which proxyra does not support"
                    + " with proxy sessions; use a dedicated-server URL";
        } else if (user != null && user.contains("[")) {
            problem = "User=" + user + " names a proxy client in brackets: every physical connection would already be"
                    + " that client's proxy session; set User to the proxy account alone (e.g. PROXY_USER)";
        }
        if (problem != null) {
            throw dev.proxyra.monitoring.Refusal.CONFIGURATION.nonTransientConnection("proxyra: " + problem, SqlState.UNABLE_TO_CONNECT, null);
        }
    }

    /**
     * Closing the previous proxy session ends everything it held (package state, ALTER SESSION settings,
     * temporary table rows, its roles and application contexts): the next one starts as a fresh login. Oracle
     * commits a session's open transaction when it ends, so one that is somehow still open is rolled back
     * first. Without a round trip, the driver's own record must agree that the previous identity is still
     * in place ({@link #identityIntact}); else the session was changed outside proxyra.
     */
    @Override
    public boolean changeIdentity(Connection physical, DbIdentity previous, DbIdentity next, boolean verify)
            throws SQLException {
        OracleConnection oracle = physical.unwrap(OracleConnection.class);
        if (previous != null && !identityIntact(physical, previous)) {
            return false;
        }
        if (transactionOpen(physical)) {
            rollback(physical);
        }
        if (oracle.isProxySession()) {
            oracle.close(OracleConnection.PROXY_SESSION);
        }
        if (next.isProxyAccount()) {
            return true;
        }
        Properties props = new Properties();
        props.setProperty(OracleConnection.PROXY_USER_NAME, next.databaseUser());
        if (next.password() != null) {
            props.setProperty(OracleConnection.PROXY_USER_PASSWORD, next.password());
        }
        if (!next.roles().isEmpty()) {
            props.put(OracleConnection.PROXY_ROLES, next.roles().toArray(new String[0]));
        }
        oracle.openProxySession(OracleConnection.PROXYTYPE_USER_NAME, props);
        return true;
    }

    /**
     * A refused openProxySession comes after the previous proxy session was closed: the proxy account remains as far
     * as the database's refusal goes; but see {@link #refusalEndsSession}.
     */
    @Override
    public DbIdentity identityAfterRefusal(DbIdentity previous) {
        return previous == null ? null : DbIdentity.PROXY_ACCOUNT;
    }

    /**
     * ojdbc's openProxySession ends, when the authentication failed, with a logoff of the session then current (the
     * proxy account's own login session, as the previous proxy session was closed first): the physical connection
     * is left without a session, and its next call fails (ORA-01012 not logged on).
     */
    @Override
    public boolean refusalEndsSession() {
        return true;
    }

    /**
     * The driver's own rule for PROXY_USER_NAME ({@code LoginOption.pattern()}, checked before any network call): a
     * plain identifier of letters, digits, _ $ #, or a double-quoted name (no NUL, no inner quote). What it would read
     * otherwise is refused too: {@code USER[CLIENT]}, {@code USER AS SYSDBA} and {@code USER/PASSWORD} (the driver
     * takes what follows a / as the password).
     */
    @Override
    public String userNameRuleBroken(String databaseUser) {
        java.util.regex.Matcher m = oracle.jdbc.driver.utils.LoginOption.pattern().matcher(databaseUser);
        if (m.matches() && databaseUser.equals(m.group("userName"))) {
            return null;
        }
        return "cannot be an Oracle proxy user: ojdbc accepts only letters, digits, _ $ # or a double-quoted name"
                + " (no . @ - / \\ ' [ ] or space unless the whole name is in double quotes)";
    }

    @Override
    public void reset(Connection physical) throws SQLException {
        OracleConnection oracle = physical.unwrap(OracleConnection.class);
        if (oracle.isProxySession()) {
            oracle.close(OracleConnection.PROXY_SESSION);
        }
    }

    @Override
    public boolean identityIntact(Connection physical, DbIdentity identity) throws SQLException {
        return physical.unwrap(OracleConnection.class).isProxySession() != identity.isProxyAccount();
    }

    @Override
    public boolean transactionOpen(Connection physical) throws SQLException {
        if (physical.isWrapperFor(oracle.jdbc.internal.OracleConnection.class)) {
            // ojdbc tracks the transaction state the server reports with each call: no round trip
            return physical.unwrap(oracle.jdbc.internal.OracleConnection.class).inLocalTransaction();
        }
        return !physical.getAutoCommit();
    }

    @Override
    public boolean closeIdentitiesOnShutdown() {
        return true;
    }

    @Override
    public boolean tagsClients() {
        return true;
    }

    /**
     * UCP ends each lending with endRequest; on a service with RESET_STATE=LEVEL2 the server then clears the client
     * identifier while ojdbc still holds it. ojdbc sends a value set again even when it is unchanged, with the next
     * call: tagging on every borrow costs bytes on that call, no round trip.
     */
    @Override
    public boolean clientTagSurvivesReturn() {
        return false;
    }

    @Override
    public void tagClient(Connection physical, String clientIdentifier) throws SQLException {
        // End-to-end metric: sent with the next round trip, no call of its own. Past ojdbc's limit the caller's name
        // is cut (never split inside a character), not refused: the audit trail then shows its first 64 chars.
        physical.setClientInfo("OCSID.CLIENTID", clientIdentifierFor(clientIdentifier));
    }

    /** The caller's name as CLIENT_IDENTIFIER: its first 64 UTF-16 chars, one less if that would split a pair. */
    static String clientIdentifierFor(String caller) {
        return cut(caller, CLIENT_IDENTIFIER_MAX_CHARS);
    }

    /** The first {@code max} UTF-16 chars of {@code name}, one less if that would split a surrogate pair. */
    static String cut(String name, int max) {
        if (name == null || name.length() <= max) {
            return name;
        }
        int end = max;
        if (Character.isHighSurrogate(name.charAt(end - 1))) {
            end--;
        }
        return name.substring(0, end);
    }

    @Override
    public boolean tagsComponents() {
        return true;
    }

    /**
     * MODULE and ACTION, as CLIENT_IDENTIFIER: ojdbc keeps them and sends them with the next call (a piggybacked
     * message, no round trip), every value set again even when unchanged, so whatever the previous lending left on
     * the server (its own setClientInfo, restored on return, or SQL's DBMS_APPLICATION_INFO.SET_MODULE, which the
     * driver never sees) is overwritten with that call. Cut to ojdbc's limits, never refused. An absent name is sent
     * as an empty value, which leaves the session without one: ojdbc ignores null over null, so a null would leave
     * what the previous lending's SQL set. MODULE first: ojdbc sends ACTION again with a new MODULE.
     */
    @Override
    public void tagComponent(Connection physical, dev.proxyra.identity.ComponentNames names) throws SQLException {
        physical.setClientInfo("OCSID.MODULE", names.application() == null ? "" : cut(names.application(), MODULE_MAX_CHARS));
        physical.setClientInfo("OCSID.ACTION", names.module() == null ? "" : cut(names.module(), ACTION_MAX_CHARS));
    }

    /**
     * SQL cannot leave a proxy session, but it can change the roles enabled in it: {@code SET ROLE} (or
     * {@code DBMS_SESSION.SET_ROLE}) to any role the user's grants and {@code WITH ROLE} allow. The roles are part of
     * the label, so a session whose roles SQL may have changed is not lent again.
     */
    @Override
    public boolean identityChangeableBySql() {
        return true;
    }

    /** SQL cannot leave a proxy session, so the driver's record is the check (roles: see mayChangeIdentity). */
    @Override
    public boolean verify(Connection physical, DbIdentity identity) throws SQLException {
        return identityIntact(physical, identity);
    }

    /** SET ROLE, also inside dynamic SQL text, and DBMS_SESSION.SET_ROLE however it is named (a synonym, quotes). */
    private static final java.util.regex.Pattern ROLE_CHANGE = java.util.regex.Pattern.compile(
            "\\bSET\\s+ROLE\\b|\\bSET_ROLE\\b", java.util.regex.Pattern.CASE_INSENSITIVE);

    /**
     * A text scan, so a heuristic: it sees SET ROLE in the statement and in string literals of a PL/SQL block, but
     * not a role change assembled at run time ({@code 'SET ' || 'ROLE'}) or made inside a stored invoker's-rights
     * procedure the statement calls.
     */
    @Override
    public boolean mayChangeIdentity(String sql) {
        return sql != null && containsRole(sql) && ROLE_CHANGE.matcher(sql).find();
    }

    /** Every text ROLE_CHANGE matches contains "role": most SQL skips the regex and its Matcher. */
    private static boolean containsRole(String sql) {
        for (int i = 0, n = sql.length() - 3; i < n; i++) {
            if ((sql.charAt(i) | 0x20) == 'r' && sql.regionMatches(true, i, "role", 0, 4)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public ErrorKind classify(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            int code = x.getErrorCode();
            // 12150-12299 and 12500-12599: TNS network and listener failures (lost contact, no listener, ...)
            if (Dialect.isConnectionState(x) || FATAL_CODES.contains(code) || (code >= 12150 && code <= 12299)
                    || (code >= 12500 && code <= 12599)) {
                return ErrorKind.FATAL;
            }
        }
        return ErrorKind.OTHER;
    }

    @Override
    public boolean isNotAuthorized(SQLException e) {
        int code = e.getErrorCode();
        return NOT_AUTHORIZED_CODES.contains(code) || (code >= 20000 && code <= 20999);
    }

    /**
     * OracleConnection's factories and getters that neither change the session nor outlive the handle, plus
     * every java.sql.Connection method (served by the handle itself). Left out: proxy-session calls
     * (openProxySession, close(int)), anything that changes the session's identity, tags or settings for
     * the next borrower (client identifier, end-to-end metrics, statement-cache and prefetch setters,
     * session time zone), shutdown/startup, and objects that reach the physical connection.
     */
    private static final VendorInterface ORACLE_CONNECTION = new VendorInterface(OracleConnection.class, Set.of(
            "createOracleArray", "createARRAY", "isProxySession", "getUserName", "getCurrentSchema",
            "getSessionTimeZone", "getDatabaseTimeZone", "getDefaultRowPrefetch", "getDefaultExecuteBatch",
            "getStatementCacheSize", "getImplicitCachingEnabled", "getExplicitCachingEnabled", "pingDatabase",
            "getEncoding"),
            "plain JDBC (Connection.createArrayOf, Statement.setFetchSize) or SQL; proxyra opens and closes proxy"
                    + " sessions and sets the client identifier itself");

    @Override
    public Class<?> offeredVendorInterface() {
        return OracleConnection.class;
    }

    @Override
    public VendorInterface vendorInterface(Class<?> iface) {
        return iface == OracleConnection.class ? ORACLE_CONNECTION : null;
    }
}
