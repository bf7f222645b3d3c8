package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.identity.DbIdentity;

/**
 * What differs between databases: how an identity is opened and closed on a physical connection,
 * how it is verified, and what an error means. One implementation per database, stateless.
 */
public interface Dialect {

    /** The class UCP uses to open physical connections. */
    String connectionFactoryClassName();

    /** Factory properties UCP must set on that class (JavaBean properties), beyond URL, user and password. */
    Map<String, String> connectionFactoryProperties(ProxyraConfig config);

    /** Connection properties UCP passes to the driver when it opens a physical connection. */
    Map<String, String> connectionProperties(ProxyraConfig config);

    /**
     * Makes the physical connection run as {@code identity}, closing whatever identity it had. On an
     * exception the connection's identity is unknown: the caller resets it or discards the connection.
     */
    void switchTo(Connection physical, DbIdentity identity) throws SQLException;

    /** Returns the physical connection to the proxy account's own identity. */
    void reset(Connection physical) throws SQLException;

    /** Whether {@link #tagClient} does anything for this database. */
    boolean tagsClients();

    /** Tags the session with the caller's principal name for audit (ClientIdentifier), without a round trip. */
    void tagClient(Connection physical, String clientIdentifier) throws SQLException;

    /**
     * Whether identities should be closed before the physical connections when the pool shuts down
     * (Oracle: each proxy session ends on its own, for the audit trail).
     */
    boolean closeIdentitiesOnShutdown();

    /**
     * Whether application SQL can change the session's identity behind the adapter's back (PostgreSQL
     * SET ROLE can; an Oracle proxy session cannot be left by SQL).
     */
    boolean identityChangeableBySql();

    /** Asks the database whether the session still runs as {@code identity}; one round trip. */
    boolean verify(Connection physical, DbIdentity identity) throws SQLException;

    /**
     * {@link #verify} that the session still runs as {@code previous}, then {@link #switchTo} {@code next};
     * a dialect that can do both in one round trip does. When it returns false the session must be discarded:
     * it may or may not have switched.
     */
    default boolean verifyThenSwitch(Connection physical, DbIdentity previous, DbIdentity next) throws SQLException {
        if (!verify(physical, previous)) {
            return false;
        }
        switchTo(physical, next);
        return true;
    }

    /** Whether this SQL text may change the session's identity (a cheap, conservative text scan). */
    boolean mayChangeIdentity(String sql);

    /** What an exception from the database means for the connection and the caller. */
    ErrorKind classify(SQLException e);

    /** Whether an error raised while switching to a user says the proxy account may not act as that user. */
    boolean isNotAuthorized(SQLException e);

    /** What an error means for the physical connection it came from. */
    enum ErrorKind {
        /** The physical connection is dead or unusable: discard it. */
        FATAL,
        /** An ordinary error; the connection stays usable. */
        OTHER
    }

    /** SQLState class 08 or a recoverable/connection exception: common to every database. */
    static boolean isConnectionState(SQLException e) {
        String state = e.getSQLState();
        return (state != null && state.startsWith("08")) || e instanceof java.sql.SQLRecoverableException
                || e instanceof java.sql.SQLNonTransientConnectionException;
    }

    static Dialect of(dev.proxyra.config.DialectKind kind) {
        return switch (kind) {
            case ORACLE -> new OracleProxySession();
            case POSTGRESQL -> new PostgresRole();
        };
    }
}
