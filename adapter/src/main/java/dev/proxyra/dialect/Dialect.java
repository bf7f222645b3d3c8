package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;

import dev.proxyra.SqlState;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.identity.DbIdentity;

/**
 * What differs between databases: how an identity is opened and closed on a physical connection, how
 * a session's state is reset, how it is verified, and what an error means. One implementation per
 * database, stateless but for what a mode of a pool keeps per physical connection (PostgreSQL's set_user
 * tokens): one instance per pool. The session lifecycle that uses it is {@link dev.proxyra.pool.IdentityPool}.
 */
public interface Dialect {

    /** The class UCP uses to open physical connections. */
    String connectionFactoryClassName();

    /** Factory properties UCP must set on that class (JavaBean properties), beyond URL, user and password. */
    Map<String, String> connectionFactoryProperties(ProxyraConfig config);

    /**
     * Refuses, naming the property, a configuration under which this database's switch would not mean what proxyra
     * promises (e.g. a driver feature that replays work on a new session of its own); called before the pool opens.
     */
    default void checkConfiguration(ProxyraConfig config, String factoryClassName, String user) throws SQLException {
    }

    /** Connection properties UCP passes to the driver when it opens a physical connection. */
    Map<String, String> connectionProperties(ProxyraConfig config);

    /**
     * Makes a physical connection run as {@code next}. {@code previous} is the identity it was lent as last
     * (null: a fresh connection that never served anyone); when it differs from {@code next}, everything
     * the previous identity left on the session (temporary objects, settings, prepared statements, cursors,
     * notifications, locks) is reset to what a fresh login has, in the same round trip as the switch where
     * the database allows it. With {@code verify}, the session is first checked to still run as
     * {@code previous} (application SQL may have changed that since it was returned).
     *
     * @return false when the check found the session no longer running as {@code previous}: it must be
     *         discarded, whatever else happened
     * @throws UnsafeProxyAccountException when a fresh session carries what would reach every identity it serves
     *         (PostgreSQL: role defaults set since the pool started): it must be discarded, and nobody served on it
     * @throws SQLException when the switch failed. If {@link #isNotAuthorized} says so, the session runs as
     *         {@link #identityAfterRefusal} with its state as before; on any other error it is in an unknown
     *         state and must be discarded.
     */
    boolean changeIdentity(Connection physical, DbIdentity previous, DbIdentity next, boolean verify)
            throws SQLException;

    /**
     * Checks, once before a pool serves anyone, on a session of the proxy account that serves no identity yet, that
     * the proxy account reaches nothing beyond the identities it serves (where SQL of a caller can act as it).
     *
     * @throws UnsafeProxyAccountException naming what is wrong and what fixes it; the pool then lends nothing
     */
    default void checkProxyAccount(Connection physical) throws SQLException {
    }

    /**
     * Checks, once before an XA pool (TransactionSupportLevel=XATransaction) serves anyone, that this database can prepare
     * transactions; throws naming the setting that forbids it.
     */
    default void checkTwoPhase(Connection physical) throws SQLException {
        throw new SQLException("proxyra: TransactionSupportLevel=XATransaction is not supported on this database",
                dev.proxyra.SqlState.FEATURE_NOT_SUPPORTED);
    }

    /**
     * What a session runs as after {@link #changeIdentity} from {@code previous} was refused (an error
     * {@link #isNotAuthorized} accepts): null when that is still a fresh, never-lent session.
     */
    DbIdentity identityAfterRefusal(DbIdentity previous);

    /**
     * Whether the database's refusal of {@link #changeIdentity} also ended the session the physical connection
     * had (Oracle's driver logs off after a failed proxy authentication): the connection must then be discarded,
     * and the same refusal should not be tried again at once on another one.
     */
    default boolean refusalEndsSession() {
        return false;
    }

    /**
     * Why {@code databaseUser} cannot be a user this database's switch accepts (a rule of the driver or the
     * database, named in the refusal); null when it can be. Checked while the identity is resolved, so that a
     * badly named caller is refused before any pooled session is touched.
     */
    default String userNameRuleBroken(String databaseUser) {
        return null;
    }

    /** Returns the physical connection to the proxy account's own identity (pool shutdown). */
    void reset(Connection physical) throws SQLException;

    /** Asks the database whether the session still runs as {@code identity}; one round trip. */
    boolean verify(Connection physical, DbIdentity identity) throws SQLException;

    /**
     * Whether the driver's own state still agrees with the identity the session was lent as, without a round
     * trip (Oracle: a proxy session is open exactly when the identity is a database user). False: something
     * outside proxyra changed the session's identity, and it must be discarded.
     */
    boolean identityIntact(Connection physical, DbIdentity identity) throws SQLException;

    /**
     * The driver's own check that the database still answers on this session (pgjdbc: an empty query; ojdbc: a
     * ping): for the health check, the application's {@code isValid}, and a borrow that makes no other round trip.
     */
    default boolean isValid(Connection physical, int timeoutSeconds) throws SQLException {
        return physical.isValid(timeoutSeconds);
    }

    /**
     * Whether the pool's own validation of a connection it lends makes no round trip, so that proxyra's borrow is
     * the validation ({@link LocallyValidatedConnection}).
     */
    default boolean poolValidatesLocally(String connectionFactoryClassName) {
        return false;
    }

    /**
     * Runs a borrow's own round trip with each network read on the session bounded by {@code seconds} (or the
     * session's network timeout when shorter), as the driver's isValid is; 0: unbounded here.
     */
    default <T> T bounded(Connection physical, int seconds, RoundTrip<T> roundTrip) throws SQLException {
        return roundTrip.run();
    }

    /** Work on a session that talks to the database. */
    @FunctionalInterface
    interface RoundTrip<T> {
        T run() throws SQLException;
    }

    /**
     * Ends what the application left running that holds the session beyond its return (pgjdbc: a COPY it started
     * and did not end, which makes every later call on the connection wait without limit), each network read at
     * most {@code seconds} (or the session's network timeout when shorter), all of it within about {@code seconds}.
     * Throws when that fails: the session must then be discarded.
     */
    default void endUnfinishedWork(Connection physical, int seconds) throws SQLException {
    }

    /**
     * Whether a transaction is open on the session, however it was begun (the JDBC API or SQL such as BEGIN),
     * judged by the protocol's state and without a round trip where the driver tracks it.
     */
    boolean transactionOpen(Connection physical) throws SQLException;

    /**
     * Rolls back whatever transaction is open, however it was begun, whatever the auto-commit flag says: drivers
     * refuse rollback() in auto-commit mode, but SQL can have begun a transaction anyway.
     */
    default void rollback(Connection physical) throws SQLException {
        if (physical.getAutoCommit()) {
            try (java.sql.Statement s = physical.createStatement()) {
                s.execute("ROLLBACK");
            }
        } else {
            physical.rollback();
        }
    }

    /**
     * Asks the database to stop what other threads are running on a session about to be discarded, so that their
     * calls leave the driver and the server stops working for them; best effort, never blocks on those calls.
     */
    default void cancelRunning(Connection physical) {
    }

    /** Whether {@link #tagClient} does anything for this database. */
    boolean tagsClients();

    /**
     * Whether the tag {@link #tagClient} set is still on the session when it is borrowed again (Oracle: no, a
     * service with RESET_STATE=LEVEL2 clears CLIENT_IDENTIFIER at the end of each request): if not, every borrow
     * tags again.
     */
    default boolean clientTagSurvivesReturn() {
        return true;
    }

    /**
     * Tags the session with the caller's principal name for audit (ClientIdentifier), without a round trip (PostgreSQL:
     * one only when the application changed the tag and nothing else asked the database on this borrow).
     */
    void tagClient(Connection physical, String clientIdentifier) throws SQLException;

    /** Whether {@link #tagComponent} does anything for this database (EndToEndTags=APPLICATION). */
    default boolean tagsComponents() {
        return false;
    }

    /**
     * Tags the session with the names of the component that borrowed it (Oracle: MODULE and ACTION), on every
     * borrow, without a round trip; a name that is null leaves the session without one, whatever an earlier
     * lending set.
     */
    default void tagComponent(Connection physical, dev.proxyra.identity.ComponentNames names) throws SQLException {
    }

    /**
     * Whether identities should be closed before the physical connections when the pool shuts down
     * (Oracle: each proxy session ends on its own, for the audit trail).
     */
    boolean closeIdentitiesOnShutdown();

    /**
     * Whether application SQL can change the session's identity behind the adapter's back (PostgreSQL
     * SET ROLE can; an Oracle proxy session cannot be left by SQL, but SET ROLE changes the roles enabled in it).
     */
    boolean identityChangeableBySql();

    /** Whether this SQL text may change the session's identity (a cheap, conservative text scan). */
    boolean mayChangeIdentity(String sql);

    /**
     * Whether this SQL text ends (or hands over, as PREPARE TRANSACTION does) the open transaction: refused while
     * the server demarcates the transaction, whose end is the transaction manager's. False where the driver is the
     * only way to end one.
     */
    default boolean endsTransaction(String sql) {
        return false;
    }

    /** What an exception from the database means for the connection and the caller. */
    ErrorKind classify(SQLException e);

    /** Whether an error raised while switching to a user says the proxy account may not act as that user. */
    boolean isNotAuthorized(SQLException e);

    /**
     * The driver interface an application may unwrap a connection handle to, with the methods it may call
     * on it; null when {@code iface} is not offered. Methods left out would let the application change
     * the session's identity or state behind the adapter's back, or keep the physical connection beyond
     * its handle.
     */
    VendorInterface vendorInterface(Class<?> iface);

    /** The driver interface {@link #vendorInterface} offers, for messages. */
    Class<?> offeredVendorInterface();

    /**
     * A driver interface offered through {@code unwrap}: the methods the application may call, and for a
     * method left out, what to use instead (shown in the refusal).
     */
    record VendorInterface(Class<?> type, Set<String> allowed, String alternative, ResultBinder binder) {
        public VendorInterface(Class<?> type, Set<String> allowed, String alternative) {
            this(type, allowed, alternative, (result, vendor, guard) -> result);
        }
    }

    /**
     * Binds a driver object that a vendor-interface method returned to the handle's lifetime, when it can
     * reach the physical connection on its own (e.g. pgjdbc's CopyManager); returns other results unchanged.
     */
    @FunctionalInterface
    interface ResultBinder {
        Object bind(Object result, Object vendorConnection, HandleGuard guard) throws SQLException;
    }

    /** Fails (SQLState 08003) once the connection handle an object belongs to is closed. */
    @FunctionalInterface
    interface HandleGuard {
        void check() throws SQLException;
    }

    /**
     * The one classification of an error raised while a borrow checks or switches a session's identity: fatal
     * first (a dead connection refuses everything), then the database's refusal of the identity, else other.
     */
    default ErrorKind classifySwitchFailure(SQLException e) {
        ErrorKind kind = classify(e);
        return kind == ErrorKind.FATAL || !isNotAuthorized(e) ? kind : ErrorKind.IDENTITY_REFUSED;
    }

    /** What an error means for the physical connection it came from. */
    enum ErrorKind {
        /** The physical connection is dead or unusable: discard it. */
        FATAL,
        /**
         * Only from {@link #classifySwitchFailure}: the database refused the identity; the session is as before the
         * switch (or, where {@link #refusalEndsSession}, ended).
         */
        IDENTITY_REFUSED,
        /** An ordinary error; the connection stays usable. */
        OTHER
    }

    /** SQLState class 08 or a recoverable/connection exception: common to every database. */
    static boolean isConnectionState(SQLException e) {
        String state = e.getSQLState();
        return SqlState.isConnectionException(state) || e instanceof java.sql.SQLRecoverableException
                || e instanceof java.sql.SQLNonTransientConnectionException;
    }

    static Dialect of(dev.proxyra.config.DialectKind kind) {
        return switch (kind) {
            case ORACLE -> new OracleProxySession();
            case POSTGRESQL -> new PostgresRole();
        };
    }

    /** The dialect of one pool: PostgreSQL's keeps what RoleSwitch=SET_USER needs per physical connection. */
    static Dialect of(ProxyraConfig config) {
        return switch (config.dialect()) {
            case ORACLE -> new OracleProxySession();
            case POSTGRESQL -> new PostgresRole(config.roleSwitch(), config.clientIdentifier(),
                    config.roleSettingsCacheSeconds());
        };
    }
}
