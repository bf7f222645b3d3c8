package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.SQLException;
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
    /** Vendor codes that mean the physical connection is gone (FACTS.md). */
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

    @Override
    public void switchTo(Connection physical, DbIdentity identity) throws SQLException {
        OracleConnection oracle = physical.unwrap(OracleConnection.class);
        if (oracle.isProxySession()) {
            oracle.close(OracleConnection.PROXY_SESSION);
        }
        if (identity.isProxyAccount()) {
            return;
        }
        Properties props = new Properties();
        props.setProperty(OracleConnection.PROXY_USER_NAME, identity.databaseUser());
        if (identity.password() != null) {
            props.setProperty(OracleConnection.PROXY_USER_PASSWORD, identity.password());
        }
        if (!identity.roles().isEmpty()) {
            props.put(OracleConnection.PROXY_ROLES, identity.roles().toArray(new String[0]));
        }
        oracle.openProxySession(OracleConnection.PROXYTYPE_USER_NAME, props);
    }

    @Override
    public void reset(Connection physical) throws SQLException {
        OracleConnection oracle = physical.unwrap(OracleConnection.class);
        if (oracle.isProxySession()) {
            oracle.close(OracleConnection.PROXY_SESSION);
        }
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

    @Override
    public boolean verify(Connection physical, DbIdentity identity) {
        return true;
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
}
