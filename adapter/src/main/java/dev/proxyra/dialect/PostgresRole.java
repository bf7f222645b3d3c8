package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.regex.Pattern;

import org.postgresql.PGConnection;

import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.identity.DbIdentity;

/**
 * PostgreSQL: the pool logs in as a proxy role that is a member of the callers' roles; each identity
 * is a {@code SET ROLE} with a safely quoted name, {@code RESET ROLE} returns to the proxy role.
 */
public final class PostgresRole implements Dialect {
    /**
     * Statements that can change current_user: SET [SESSION|LOCAL] ROLE, RESET ROLE, RESET ALL,
     * SET SESSION AUTHORIZATION, set_config(...), DISCARD ALL. Deliberately broad: a false positive
     * only costs one reconnect.
     */
    private static final Pattern ROLE_CHANGE = Pattern.compile(
            "(?is)\\b(?:set\\s+(?:session\\s+|local\\s+)?role|reset\\s+(?:role|all|session)|session\\s+authorization"
                    + "|set_config|discard)\\b");

    @Override
    public String connectionFactoryClassName() {
        return "org.postgresql.ds.PGSimpleDataSource";
    }

    @Override
    public Map<String, String> connectionFactoryProperties(ProxyraConfig config) {
        // UCP ignores setURL for this factory class; it must be a factory property (FACTS.md).
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

    @Override
    public void switchTo(Connection physical, DbIdentity identity) throws SQLException {
        try (Statement s = physical.createStatement()) {
            s.execute(switchStatement(physical, identity));
        }
    }

    /**
     * The proxy account's own identity: SET ROLE NONE is the login role itself, where RESET ROLE would be
     * whatever role default ALTER ROLE or ALTER DATABASE gave the session.
     */
    private static final String BACK_TO_LOGIN_ROLE = "SET ROLE NONE";

    private static String switchStatement(Connection physical, DbIdentity identity) throws SQLException {
        if (identity.isProxyAccount()) {
            return BACK_TO_LOGIN_ROLE;
        }
        requireSettable(identity);
        return "SET ROLE " + physical.unwrap(PGConnection.class).escapeIdentifier(identity.databaseUser());
    }

    private static void requireSettable(DbIdentity identity) throws SQLException {
        if ("none".equals(identity.databaseUser())) {
            // PostgreSQL reads the value none, quoted or not, as SET ROLE NONE: back to the login role.
            throw new SQLException("role \"none\" cannot be set: PostgreSQL reads SET ROLE \"none\" as SET ROLE NONE"
                    + " (the proxy account itself)", "22023");
        }
    }

    @Override
    public void reset(Connection physical) throws SQLException {
        try (Statement s = physical.createStatement()) {
            s.execute(BACK_TO_LOGIN_ROLE);
        }
    }

    @Override
    public boolean closeIdentitiesOnShutdown() {
        return false;
    }

    @Override
    public boolean tagsClients() {
        return false;
    }

    @Override
    public void tagClient(Connection physical, String clientIdentifier) {
        // application_name would cost a round trip per change; not done
    }

    @Override
    public boolean identityChangeableBySql() {
        return true;
    }

    private static final String WHO_AM_I = "select current_user, session_user";

    @Override
    public boolean verify(Connection physical, DbIdentity identity) throws SQLException {
        // Prepared: pgjdbc's per-connection statement cache turns it into a server-side prepared statement
        // after prepareThreshold uses, so the server neither parses nor plans it per check.
        try (PreparedStatement s = physical.prepareStatement(WHO_AM_I); ResultSet rs = s.executeQuery()) {
            return runsAs(rs, identity);
        }
    }

    /**
     * The session's users as they were, then the role set by {@code set_config('role', ...)}, which is what
     * SET ROLE does: one prepared statement, so one round trip, parsed and planned once per connection. Should
     * PostgreSQL ever evaluate the target list in another order, the check would read the new role and fail
     * (it never equals the previous one here): the session would be discarded, never wrongly kept.
     */
    private static final String WHO_AM_I_THEN_SET_ROLE = "select current_user, session_user, set_config('role', ?, false)";

    @Override
    public boolean verifyThenSwitch(Connection physical, DbIdentity previous, DbIdentity next) throws SQLException {
        if (!next.isProxyAccount()) {
            requireSettable(next);
        }
        try (PreparedStatement s = physical.prepareStatement(WHO_AM_I_THEN_SET_ROLE)) {
            // 'none' is SET ROLE NONE: back to the login role, whatever role default it may have been given
            s.setString(1, next.isProxyAccount() ? "none" : next.databaseUser());
            try (ResultSet rs = s.executeQuery()) {
                return runsAs(rs, previous);
            }
        }
    }

    private static boolean runsAs(ResultSet rs, DbIdentity identity) throws SQLException {
        if (!rs.next()) {
            return false;
        }
        String current = rs.getString(1);
        return identity.isProxyAccount() ? current.equals(rs.getString(2)) : current.equals(identity.databaseUser());
    }

    @Override
    public boolean mayChangeIdentity(String sql) {
        return sql != null && mayMatch(sql) && ROLE_CHANGE.matcher(sql).find();
    }

    private static final String[] KEYWORDS = {"role", "reset", "session", "authorization", "set_config", "discard"};

    /** Every text ROLE_CHANGE matches contains one of these words: most SQL skips the regex and its Matcher. */
    private static boolean mayMatch(String sql) {
        for (int i = 0, n = sql.length(); i < n; i++) {
            char c = (char) (sql.charAt(i) | 0x20);
            if (c == 'r' || c == 's' || c == 'a' || c == 'd') {
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
            if (Dialect.isConnectionState(x) || "57P01".equals(state) || "57P02".equals(state) || "57P03".equals(state)) {
                return ErrorKind.FATAL;
            }
        }
        return ErrorKind.OTHER;
    }

    @Override
    public boolean isNotAuthorized(SQLException e) {
        String state = e.getSQLState();
        // 42501 permission denied to set role, 22023 role does not exist, class 28 authorization
        return "42501".equals(state) || "22023".equals(state) || (state != null && state.startsWith("28"));
    }
}
