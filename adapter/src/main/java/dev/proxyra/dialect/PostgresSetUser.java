package dev.proxyra.dialect;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.logging.Logger;

import org.postgresql.core.BaseConnection;

import dev.proxyra.SqlState;
import dev.proxyra.identity.DbIdentity;

/**
 * {@code RoleSwitch=SET_USER}: the switch is the set_user extension's {@code set_user(role, token)}, which blocks
 * SET ROLE, RESET ROLE, SET SESSION AUTHORIZATION and set_config() on the session until {@code reset_user(token)};
 * the token is random per physical connection and known to proxyra only. What the extension does not block is in
 * docs/security.md ("Switch modes on PostgreSQL").
 *
 * <p>How the extension shapes the switch:
 * <ul>
 * <li>set_user and reset_user act when their transaction commits, and refuse to run inside a transaction block, so
 * a reset and the next set_user take two round trips: each runs in its own implicit transaction. A caller's failed
 * or rolled-back transaction later cannot undo a switch that committed.</li>
 * <li>RESET ALL crashes the server process (set_user 4.0.1 reads the name of the variable, which RESET ALL does not
 * have) whenever set_user is active, from the moment set_user is called until the reset_user's commit: the reset of
 * the session therefore runs only in the transaction after reset_user, and before the next set_user.</li>
 * <li>set_user does not check that the session user is a member of the role (only an allow list, by default every
 * role that is not a superuser): proxyra asks for the membership SET ROLE would require, in the same statement.</li>
 * <li>Its functions are called schema-qualified, with text arguments, so that neither a caller's search_path nor a
 * function of a closer argument type can stand in for them and learn the token.</li>
 * </ul>
 */
final class PostgresSetUser {
    private static final Logger LOG = Logger.getLogger(PostgresSetUser.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String PROPERTY = "RoleSwitch=SET_USER";

    /** What the proxy account needs, asked once per pool on its first session, before that session's first switch. */
    private static final String PREREQUISITES = "SELECT pg_catalog.quote_ident(n.nspname), e.extversion,"
            + " pg_catalog.current_setting('set_user.block_alter_system', true) IS NOT NULL,"
            + " pg_catalog.has_function_privilege(pg_catalog.format('%I.set_user(text,text)', n.nspname), 'EXECUTE'),"
            + " pg_catalog.has_function_privilege(pg_catalog.format('%I.reset_user(text)', n.nspname), 'EXECUTE'),"
            + " pg_catalog.current_database(), session_user"
            + " FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
            + " WHERE e.extname = 'set_user'";

    /** Per physical connection; weak, so a connection UCP closed takes its token with it. */
    private final Map<BaseConnection, String> tokens = Collections.synchronizedMap(new WeakHashMap<>());
    /** The extension's schema, quoted: known once the prerequisites were found. */
    private volatile String schema;

    /**
     * A role the session may become: exists, is no superuser, and the session user may SET ROLE to it. From
     * PostgreSQL 16 that is the SET option of the membership; before, membership itself.
     */
    private static String grantable(Connection physical) throws SQLException {
        String privilege = physical.getMetaData().getDatabaseMajorVersion() >= 16 ? "SET" : "MEMBER";
        // operators and types qualified: this runs after the role's own search_path was applied (a caller may store
        // one naming a schema with its own = operator, which would then run here as the proxy role)
        return " FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) ?::pg_catalog.text AND NOT r.rolsuper"
                + " AND pg_catalog.pg_has_role(session_user, r.oid, '" + privilege + "')";
    }

    /**
     * Whether the session ran as {@code previous} (with {@code verify}); false: discard it, nothing was done. For a
     * reused session this is the first of the two round trips: the check, then reset_user, both only when
     * {@code next} may be switched to, so a refusal leaves the session as it was.
     */
    boolean leave(Connection physical, DbIdentity previous, DbIdentity next, boolean verify) throws SQLException {
        boolean switched = !previous.isProxyAccount();
        boolean toRole = !next.isProxyAccount();
        String sql = (verify ? PostgresRole.WHO_AM_I + "; " : "")
                + (switched ? "SELECT " + schema + ".reset_user(?::pg_catalog.text)" : "SELECT 1")
                + (toRole ? grantable(physical) : "");
        try (PreparedStatement s = physical.prepareStatement(sql)) {
            int p = 1;
            if (switched) {
                s.setString(p++, token(physical));
            }
            if (toRole) {
                s.setString(p, next.databaseUser());
            }
            s.execute();
            if (verify) {
                try (ResultSet rs = s.getResultSet()) {
                    if (!PostgresRole.runsAs(rs, previous)) {
                        return false;
                    }
                }
                s.getMoreResults();
            }
            try (ResultSet rs = s.getResultSet()) {
                if (!rs.next()) {
                    throw notGrantable(next);
                }
            }
        } catch (SQLException e) {
            throw isRefusal(e) ? e : unknownState("leaving " + previous.databaseUser(), e);
        }
        return true;
    }

    /** A fresh session that stays the proxy account: only the pool's prerequisites are checked. */
    void checkFresh(Connection physical) throws SQLException {
        prerequisites(physical);
    }

    /**
     * A fresh session straight to {@code next}: one transaction, the role's settings and {@code applicationName}
     * (see PostgresCallerSettings) only when set_user may switch to it, then set_user.
     */
    void enterFresh(Connection physical, DbIdentity next, String applicationName) throws SQLException {
        prerequisites(physical);
        String token = newToken(physical);
        String grantable = grantable(physical);
        String sql = PostgresCallerSettings.apply("?::pg_catalog.text", applicationName, "EXISTS (SELECT 1" + grantable
                + ")") + "; SELECT " + schema + ".set_user(?::pg_catalog.text, ?::pg_catalog.text)" + grantable;
        // the settings' role and condition, application_name's condition, then set_user's role, token and condition
        List<String> parameters = new ArrayList<>(List.of(next.databaseUser(), next.databaseUser()));
        if (applicationName != null) {
            parameters.add(next.databaseUser());
        }
        parameters.addAll(List.of(next.databaseUser(), token, next.databaseUser()));
        try (PreparedStatement s = physical.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
                s.setString(i + 1, parameters.get(i));
            }
            boolean granted = false;
            try {
                for (boolean isResultSet = s.execute(); isResultSet || s.getUpdateCount() != -1;
                     isResultSet = s.getMoreResults()) {
                    if (isResultSet) {
                        try (ResultSet rs = s.getResultSet()) {
                            granted = rs.next(); // set_user's is the last
                        }
                    }
                }
            } catch (SQLException e) {
                throw SqlState.INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())
                        ? PostgresCallerSettings.refused(next.databaseUser(), e) : e;
            }
            if (!granted) {
                throw notGrantable(next);
            }
        } catch (SQLException e) {
            throw isRefusal(e) ? e : refusedBySetUser(next, e);
        }
    }

    /**
     * The second round trip of a reused session: {@code reset} (the session's reset, with nothing set_user is active
     * for) then set_user, last, so that RESET ALL never runs while set_user is active. Returns the statement, its
     * results past the reset's not yet read; set_user's own result is the last.
     */
    PreparedStatement resetAndEnter(Connection physical, String reset, int resetParameters, DbIdentity next)
            throws SQLException {
        PreparedStatement s = physical.prepareStatement(reset + "; SELECT " + schema + ".set_user(?::pg_catalog.text, ?::pg_catalog.text)");
        int p = 1;
        while (p <= resetParameters) {
            s.setString(p++, next.databaseUser()); // each parameter of the reset names the next role (its settings)
        }
        s.setString(p++, next.databaseUser());
        s.setString(p, token(physical));
        return s;
    }

    /**
     * After the second round trip failed: the session runs as the proxy account (reset_user committed), its state
     * as far as the failed transaction undid the reset. Back to {@code previous} with set_user, when set_user itself
     * refused {@code next} (its allow list), so the refusal keeps the session; any other failure leaves it unknown.
     */
    SQLException afterFailedEnter(Connection physical, DbIdentity previous, DbIdentity next, SQLException e) {
        // 42501: set_user's allow list, or a role setting the proxy role may not set, as much a refusal of next
        if (!SqlState.INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
            return unknownState("switching to " + next.databaseUser(), e);
        }
        try {
            if (!previous.isProxyAccount()) {
                try (PreparedStatement s = physical.prepareStatement(
                        "SELECT " + schema + ".set_user(?::pg_catalog.text, ?::pg_catalog.text)")) {
                    s.setString(1, previous.databaseUser());
                    s.setString(2, token(physical));
                    s.execute();
                }
            }
        } catch (SQLException notBack) {
            SQLException unknown = unknownState("switching back to " + previous.databaseUser(), notBack);
            unknown.addSuppressed(e);
            return unknown;
        }
        return refusedBySetUser(next, PostgresCallerSettings.refused(next.databaseUser(), e));
    }

    /** Pool shutdown: back to the proxy account, when proxyra switched this session. */
    void reset(Connection physical) throws SQLException {
        String token = tokens.get(physical.unwrap(BaseConnection.class));
        if (token == null || schema == null) {
            return;
        }
        try (PreparedStatement s = physical.prepareStatement("SELECT " + schema + ".reset_user(?::pg_catalog.text)")) {
            s.setString(1, token);
            s.execute();
        }
    }

    private void prerequisites(Connection physical) throws SQLException {
        if (schema != null) {
            return;
        }
        try (PreparedStatement s = physical.prepareStatement(PREREQUISITES); ResultSet rs = s.executeQuery()) {
            if (!rs.next()) {
                throw unusable("the set_user extension is not installed in this database: run CREATE EXTENSION"
                        + " set_user in it as a superuser");
            }
            String found = rs.getString(1);
            String version = rs.getString(2);
            String database = rs.getString(6);
            String proxy = rs.getString(7);
            if (!rs.getBoolean(3)) {
                throw unusable("set_user " + version + " is installed in database " + database + " but the server has"
                        + " not loaded it: add set_user to shared_preload_libraries and restart PostgreSQL");
            }
            if (!rs.getBoolean(4) || !rs.getBoolean(5)) {
                throw unusable("the proxy account " + proxy + " may not execute " + found + ".set_user(text, text) and "
                        + found + ".reset_user(text): GRANT EXECUTE ON FUNCTION " + found + ".set_user(text, text), "
                        + found + ".reset_user(text) TO " + proxy);
            }
            schema = found;
            LOG.info(() -> "proxyra: RoleSwitch=SET_USER: sessions switch with set_user " + version + " (schema "
                    + found + " of database " + database + ")");
        }
    }

    private String newToken(Connection physical) throws SQLException {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        tokens.put(physical.unwrap(BaseConnection.class), token);
        return token;
    }

    private String token(Connection physical) throws SQLException {
        String token = tokens.get(physical.unwrap(BaseConnection.class));
        if (token == null) {
            // switched by someone else, or before this pool existed: only a new session is known
            throw new SQLException("proxyra: " + PROPERTY + ": no reset token is known for this session",
                    SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE);
        }
        return token;
    }

    /** A refusal proxyra made itself: the session is untouched. */
    private static boolean isRefusal(SQLException e) {
        return SqlState.INVALID_AUTHORIZATION.equals(e.getSQLState());
    }

    private static SQLException notGrantable(DbIdentity next) {
        return new SQLException("role \"" + next.databaseUser() + "\" does not exist, is a superuser or is not granted"
                + " to the proxy account (set_user checks no membership itself, so proxyra does)",
                        SqlState.INVALID_AUTHORIZATION);
    }

    /** set_user's own refusals (its allow list, 42501) are the caller's; anything else leaves the session unknown. */
    private static SQLException refusedBySetUser(DbIdentity next, SQLException e) {
        if (SqlState.INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
            return new SQLException("set_user refused role \"" + next.databaseUser() + "\": " + e.getMessage(),
                    SqlState.INVALID_AUTHORIZATION,
                    e);
        }
        return unknownState("switching to " + next.databaseUser(), e);
    }

    /** Not a refusal, and not in the classes that mean a dead connection: the pool discards the session. */
    private static SQLException unknownState(String what, SQLException e) {
        if (Dialect.isConnectionState(e) || SqlState.isServerShutdown(e.getSQLState())) {
            return e; // dead: keep what the pool classifies as fatal
        }
        return new SQLException("proxyra: " + PROPERTY + ": " + what + " failed: " + e.getMessage(),
                SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, e);
    }

    private static SQLException unusable(String why) {
        return new SQLException("proxyra: " + PROPERTY + " cannot be used: " + why + " (pool property RoleSwitch,"
                + " allowed values SET_ROLE, SET_USER)", SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE);
    }
}
