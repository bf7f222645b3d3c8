package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import oracle.jdbc.OracleConnection;

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
    /** Proxy not authorized (28150), no client name (28179), bad password (1017), locked (28000),
     *  expired (28001), no CREATE SESSION (1045). */
    private static final Set<Integer> NOT_AUTHORIZED_CODES = Set.of(28150, 28179, 1017, 28000, 28001, 1045);

    @Override
    public String connectionFactoryClassName() {
        return "oracle.jdbc.pool.OracleDataSource";
    }

    @Override
    public Map<String, String> connectionFactoryProperties(ProxyraConfig config) {
        return Map.of();
    }

    @Override
    public Map<String, String> connectionProperties(ProxyraConfig config) {
        if (config.networkTimeout() == 0) {
            return Map.of();
        }
        String millis = Long.toString(config.networkTimeout() * 1000L);
        return Map.of(OracleConnection.CONNECTION_PROPERTY_THIN_READ_TIMEOUT, millis,
                OracleConnection.CONNECTION_PROPERTY_THIN_NET_CONNECT_TIMEOUT, millis);
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

    /** A refused openProxySession comes after the previous proxy session was closed: the proxy account remains. */
    @Override
    public DbIdentity identityAfterRefusal(DbIdentity previous) {
        return previous == null ? null : DbIdentity.PROXY_ACCOUNT;
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

    @Override
    public void tagClient(Connection physical, String clientIdentifier) throws SQLException {
        // End-to-end metric: sent with the next round trip, no call of its own.
        physical.setClientInfo("OCSID.CLIENTID", clientIdentifier);
    }

    @Override
    public boolean identityChangeableBySql() {
        return false;
    }

    /** SQL cannot leave a proxy session, so the driver's record is the check. */
    @Override
    public boolean verify(Connection physical, DbIdentity identity) throws SQLException {
        return identityIntact(physical, identity);
    }

    @Override
    public boolean mayChangeIdentity(String sql) {
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
        return NOT_AUTHORIZED_CODES.contains(e.getErrorCode());
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
