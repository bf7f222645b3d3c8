package dev.proxyra.pool;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

import oracle.ucp.UniversalConnectionPoolException;
import oracle.ucp.admin.UniversalConnectionPoolManagerImpl;
import oracle.ucp.jdbc.LabelableConnection;
import oracle.ucp.jdbc.PoolDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;
import oracle.ucp.jdbc.ValidConnection;

import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.dialect.Dialect;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.identity.IdentityResolver;

/**
 * One UCP pool of physical connections logged in as the proxy account, handing out sessions that
 * run as a requested identity. UCP does sizing, waiting, validation and replacement of dead
 * connections; this class labels every borrow with the identity, switches identity when the label
 * differs, and on release makes sure no identity changed by application SQL reaches the next borrower.
 */
public final class IdentityPool implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(IdentityPool.class.getName());
    private static final AtomicInteger POOL_NUMBER = new AtomicInteger();
    /**
     * UCP pool names are unique per UCP pool manager, which a server may share between two deployed copies of
     * proxyra.rar while each copy has its own class loader, and so its own POOL_NUMBER: the random part keeps the
     * second copy's "proxyra-1" from being refused (UCP-0).
     */
    private static final String LOADER_TAG = String.format("%08x", new SecureRandom().nextInt());
    private static final int MAX_LABEL_SETS = 10_000;

    private final ProxyraConfig config;
    private final Dialect dialect;
    private final String user;
    private final String password;
    private final PoolDataSource ucp;
    /** One label set per label value: UCP copies what it is given, so a set can serve every borrow. */
    private final ConcurrentHashMap<String, Properties> labelSets = new ConcurrentHashMap<>();
    private final String name;
    private final LongAdder identitySwitches = new LongAdder();
    private final boolean tagClients;
    private final LongAdder discarded = new LongAdder();
    private final LongAdder escapesFound = new LongAdder();
    private final boolean verifyOnBorrow;
    private final AtomicInteger lentOut = new AtomicInteger();
    private volatile boolean closed;

    /** A pool for {@code config} logging in as {@code user}/{@code password} (the effective proxy account). */
    public IdentityPool(ProxyraConfig config, Dialect dialect, String user, String password) throws SQLException {
        this.config = config;
        this.dialect = dialect;
        this.user = user;
        this.password = password;
        this.tagClients = config.clientIdentifier() && dialect.tagsClients();
        this.verifyOnBorrow = dialect.identityChangeableBySql() && config.identityCheck() == ProxyraConfig.IdentityCheck.VERIFY;
        this.name = "proxyra-" + POOL_NUMBER.incrementAndGet() + "-" + LOADER_TAG;
        this.ucp = PoolDataSourceFactory.getPoolDataSource();
        ucp.setConnectionPoolName(name);
        ucp.setConnectionFactoryClassName(config.connectionFactoryClassName() != null
                ? config.connectionFactoryClassName() : dialect.connectionFactoryClassName());
        ucp.setURL(config.url());
        for (Map.Entry<String, String> e : dialect.connectionFactoryProperties(config).entrySet()) {
            ucp.setConnectionFactoryProperty(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, String> e : dialect.connectionProperties(config).entrySet()) {
            ucp.setConnectionProperty(e.getKey(), e.getValue());
        }
        if (user != null) {
            ucp.setUser(user);
        }
        if (password != null) {
            ucp.setPassword(password);
        }
        ucp.setInitialPoolSize(config.initialPoolSize());
        ucp.setMinPoolSize(config.minPoolSize());
        ucp.setMaxPoolSize(config.maxPoolSize());
        ucp.setConnectionWaitTimeout(config.connectionWaitTimeout());
        ucp.setInactiveConnectionTimeout(config.inactiveConnectionTimeout());
        ucp.setValidateConnectionOnBorrow(config.validateConnectionOnBorrow());
        ucp.setAbandonedConnectionTimeout(config.abandonedConnectionTimeout());
        if (config.abandonedConnectionTimeout() > 0) {
            // UCP checks its timeouts every TimeoutCheckInterval seconds (default 30): check at least as often
            // as the abandonment timeout, or a 1 s timeout reclaims after up to 30 s.
            ucp.setTimeoutCheckInterval(Math.min(30, config.abandonedConnectionTimeout()));
        }
        if (config.fastConnectionFailoverEnabled()) {
            ucp.setFastConnectionFailoverEnabled(true);
        }
        if (config.onsConfiguration() != null) {
            ucp.setONSConfiguration(config.onsConfiguration());
        }
        ucp.registerConnectionLabelingCallback(new IdentityLabels());
        LOG.fine(() -> "proxyra: created pool " + name + " for " + config);
    }

    public ProxyraConfig config() {
        return config;
    }

    public String name() {
        return name;
    }

    public Dialect dialect() {
        return dialect;
    }

    /** Borrows a physical connection and makes it run as {@code identity}. */
    public PhysicalSession borrow(DbIdentity identity) throws SQLException {
        if (closed) {
            throw new SQLTransientConnectionException("proxyra: pool " + name + " is closed (the resource adapter stopped)",
                    "08003");
        }
        if (!identity.isProxyAccount() && identity.databaseUser().equalsIgnoreCase(user)) {
            // SET ROLE to the login role always succeeds (and an Oracle proxy session as itself makes no
            // sense): a caller of that name would run as the proxy account, which only UnauthenticatedAccess grants.
            throw new SQLInvalidAuthorizationSpecException("proxyra: caller '" + identity.caller()
                    + "' maps to database user '" + identity.databaseUser() + "', the proxy account itself; refused",
                    IdentityResolver.AUTHORIZATION_STATE);
        }
        String want = IdentityLabels.valueFor(identity);
        Properties wanted = labelSet(want, identity);
        // A pooled session that was dead, or no longer ran as its label, is discarded and the borrow tries again
        // (nothing of the application ran on it yet), for at most ConnectionWaitTimeout (1 s when that is 0).
        long retryUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(1, config.connectionWaitTimeout()));
        int dead = 0;
        int escaped = 0;
        while (true) {
            Connection connection = take(wanted);
            lentOut.incrementAndGet();
            String have = null;
            boolean ready;
            try {
                have = labelOf(connection);
                ready = ensureIdentity(connection, have, want, identity);
                if (ready && tagClients) {
                    tagClient(connection, identity);
                }
            } catch (SQLException e) {
                if (have != null && dialect.classify(e) == Dialect.ErrorKind.FATAL && System.nanoTime() < retryUntil) {
                    dead++;
                    lentOut.decrementAndGet();
                    discard(connection, "it was dead when borrowed: " + e.getMessage());
                    continue;
                }
                throw giveBackAfterFailedSwitch(connection, identity, e);
            } catch (RuntimeException | Error e) {
                lentOut.decrementAndGet();
                discard(connection, "unexpected failure while switching identity");
                throw e;
            }
            if (ready) {
                return new PhysicalSession(connection, identity);
            }
            escaped++;
            lentOut.decrementAndGet();
            discard(connection, "it no longer ran as its label said (application SQL changed its role)");
            if (System.nanoTime() >= retryUntil) {
                throw new SQLTransientConnectionException("proxyra: pool " + name + " found no usable session within "
                        + "ConnectionWaitTimeout=" + config.connectionWaitTimeout() + "s: " + escaped
                        + " no longer ran as their label said (application SQL changed their role) and " + dead
                        + " were dead; all were discarded", "08001");
            }
        }
    }

    /**
     * Returns a physical connection to UCP. {@code identityMayHaveChanged} is set when the application
     * ran SQL that can change the session's identity; {@code broken} when a fatal error was seen.
     */
    public void release(PhysicalSession session, boolean identityMayHaveChanged, boolean broken) {
        lentOut.decrementAndGet();
        Connection connection = session.connection();
        String reason = broken ? "a fatal error was reported on it" : null;
        if (reason == null && identityMayHaveChanged && dialect.identityChangeableBySql()) {
            reason = "the application ran SQL that can change the session's role";
        }
        if (reason != null) {
            discard(connection, reason);
            return;
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: returning a connection to pool " + name + " failed", e);
        }
    }

    private Properties labelSet(String value, DbIdentity identity) {
        Properties labels = labelSets.get(value);
        if (labels == null) {
            if (labelSets.size() >= MAX_LABEL_SETS) {
                labelSets.clear(); // bounded: beyond this many distinct identities sets are simply rebuilt
            }
            labels = labelSets.computeIfAbsent(value, v -> IdentityLabels.labelsFor(identity));
        }
        return labels;
    }

    private static String labelOf(Connection connection) throws SQLException {
        Properties current = ((LabelableConnection) connection).getConnectionLabels();
        return current == null ? null : current.getProperty(IdentityLabels.KEY);
    }

    private Connection take(Properties labels) throws SQLException {
        try {
            // Naming the account spares UCP 23.26 copying its whole property set (getUser()/getPassword() each
            // copy every pool property): ~3-5 KB less per borrow. Same credentials, same physical connections.
            return user != null && password != null ? ucp.getConnection(user, password, labels) : ucp.getConnection(labels);
        } catch (SQLException e) {
            throw borrowFailure(e);
        }
    }

    /**
     * Makes a borrowed connection, labelled {@code have}, run as {@code identity}, labelled {@code want}. With
     * {@code IdentityCheck=VERIFY} a session that ran as someone before is first checked to still run as its
     * label says (application SQL may have changed its role since it was returned): on a warm session that
     * check is the only round trip, before a switch it travels with the switch. False: the session failed the
     * check and must be discarded.
     */
    private boolean ensureIdentity(Connection connection, String have, String want, DbIdentity identity)
            throws SQLException {
        boolean check = have != null && verifyOnBorrow;
        // A password means the caller must be authenticated now: never reuse a warm session for it.
        if (want.equals(have) && identity.password() == null) {
            return !check || recordCheck(dialect.verify(connection, identity), have);
        }
        LabelableConnection labelable = (LabelableConnection) connection;
        if (have != null) {
            // From here until the switch succeeds the session's identity is unknown: no labels.
            labelable.removeConnectionLabel(IdentityLabels.KEY);
            labelable.removeConnectionLabel(IdentityLabels.CLIENT_KEY);
        }
        if (check) {
            DbIdentity previous = IdentityLabels.identityIn(have);
            if (previous == null) {
                return recordCheck(false, have);
            }
            boolean ranAsPrevious;
            try {
                ranAsPrevious = dialect.verifyThenSwitch(connection, previous, identity);
            } catch (SQLException e) {
                // A failed switch leaves the session as it was but takes the check's answer with it: ask again,
                // so that a session whose role was changed is discarded, not reset and reused.
                if (dialect.classify(e) != Dialect.ErrorKind.FATAL
                        && !recordCheck(dialect.verify(connection, previous), have)) {
                    return false;
                }
                throw e;
            }
            if (!recordCheck(ranAsPrevious, have)) {
                return false;
            }
        } else {
            dialect.switchTo(connection, identity);
        }
        labelable.applyConnectionLabel(IdentityLabels.KEY, want);
        identitySwitches.increment();
        return true;
    }

    /** Counts and logs a session that failed its check; returns whether it passed. */
    private boolean recordCheck(boolean ranAsLabelled, String label) {
        if (!ranAsLabelled) {
            escapesFound.increment();
            LOG.warning(() -> "proxyra: a pooled session of pool " + name + " no longer ran as its label " + label
                    + " (application SQL changed its role after the adapter set it); discarded");
        }
        return ranAsLabelled;
    }

    /** ClientIdentifier: the caller's name on the session, set only when it differs from the last one. */
    private void tagClient(Connection connection, DbIdentity identity) throws SQLException {
        String want = identity.caller() == null ? "" : identity.caller();
        LabelableConnection labelable = (LabelableConnection) connection;
        Properties current = labelable.getConnectionLabels();
        if (!want.equals(current == null ? null : current.getProperty(IdentityLabels.CLIENT_KEY))) {
            dialect.tagClient(connection, want);
            labelable.applyConnectionLabel(IdentityLabels.CLIENT_KEY, want);
        }
    }

    /**
     * After a failed switch: without labels and back to the proxy account into the pool, or discarded; then
     * the error. Labels go first: a session that no longer runs as its label must never be chosen by it.
     */
    private SQLException giveBackAfterFailedSwitch(Connection connection, DbIdentity identity, SQLException e) {
        lentOut.decrementAndGet();
        if (dialect.classify(e) == Dialect.ErrorKind.FATAL) {
            discard(connection, "fatal error while switching identity");
            return e;
        }
        try {
            LabelableConnection labelable = (LabelableConnection) connection;
            if (labelable.getConnectionLabels() != null) {
                labelable.removeConnectionLabel(IdentityLabels.KEY);
                labelable.removeConnectionLabel(IdentityLabels.CLIENT_KEY);
            }
            dialect.reset(connection);
            connection.close();
        } catch (SQLException | RuntimeException resetFailure) {
            discard(connection, "reset after a failed identity switch failed");
        }
        if (dialect.isNotAuthorized(e)) {
            return new SQLInvalidAuthorizationSpecException("proxyra: the proxy account may not act as database user '"
                    + identity.databaseUser() + "'" + (identity.caller() != null ? " (caller '" + identity.caller() + "')" : "")
                    + ": " + e.getMessage() + " [SQLState " + e.getSQLState() + ", error " + e.getErrorCode() + "]",
                    IdentityResolver.AUTHORIZATION_STATE, e);
        }
        return e;
    }

    private SQLException borrowFailure(SQLException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof IllegalArgumentException) {
            // e.g. pgjdbc's "URL invalid": a configuration error, not an unreachable database
            return new java.sql.SQLNonTransientConnectionException("proxyra: invalid URL '"
                    + dev.proxyra.config.Redact.url(config.url()) + "': the driver rejected it (" + root.getMessage() + ")",
                    "08001", e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            // class 28: authorization; 08004: the server rejected the connection (pgjdbc: no password was provided)
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("28") || s.getSQLState().equals("08004"))) {
                return new SQLInvalidAuthorizationSpecException("proxyra: the proxy account '" + user
                        + "' cannot log in to the database (check User and Password): " + s.getMessage(),
                        IdentityResolver.AUTHORIZATION_STATE, e);
            }
        }
        int borrowed = borrowedCount();
        String why = borrowed >= config.maxPoolSize()
                ? "pool exhausted: all " + config.maxPoolSize() + " physical connections (MaxPoolSize) are in use"
                : "the database is unreachable or refused the connection";
        String cause = root != e && root.getMessage() != null && !root.getMessage().startsWith("UCP-")
                ? "; " + root.getMessage() : "";
        return new SQLTransientConnectionException("proxyra: no connection from pool " + name + " within "
                + "ConnectionWaitTimeout=" + config.connectionWaitTimeout() + "s: " + why + " (" + e.getMessage() + cause
                + ")", "08001", e);
    }

    private void discard(Connection connection, String reason) {
        discarded.increment();
        LOG.fine(() -> "proxyra: discarding a physical connection of pool " + name + ": " + reason);
        try {
            if (connection instanceof ValidConnection valid) {
                valid.setInvalid();
            }
            connection.close();
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: closing a discarded connection failed", e);
        }
    }

    /**
     * Physical connections proxyra has borrowed and not yet returned: 0 when nothing leaked. Exact at
     * any moment, unlike UCP's own count, which drops a little later for discarded connections.
     */
    public int lentOut() {
        return lentOut.get();
    }

    /**
     * Takes every idle physical connection out of the pool and closes its identity (the proxy session),
     * so that destroying the pool then only closes the proxy account's own sessions. They go back to UCP
     * afterwards (UCP waits for borrowed connections when it destroys a pool); the pool is already
     * marked closed, so none is handed out again.
     */
    private void closeIdleIdentities() {
        List<Connection> drained = new ArrayList<>();
        try {
            ucp.setValidateConnectionOnBorrow(false);
            for (int idle = ucp.getAvailableConnectionsCount(); idle > 0; idle--) {
                Connection c = ucp.getConnection();
                drained.add(c);
                dialect.reset(c);
            }
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: closing idle identities of pool " + name + " before shutdown", e);
        } finally {
            for (Connection c : drained) {
                try {
                    c.close();
                } catch (SQLException e) {
                    LOG.log(Level.FINE, "proxyra: returning a drained connection", e);
                }
            }
        }
        LOG.fine(() -> "proxyra: closed " + drained.size() + " idle identities of pool " + name);
    }

    /** UCP's count of borrowed physical connections. */
    public int borrowedCount() {
        try {
            return ucp.getBorrowedConnectionsCount();
        } catch (SQLException e) {
            return -1;
        }
    }

    /** Physical connections in the pool, idle or lent out. */
    public int totalCount() {
        try {
            return ucp.getBorrowedConnectionsCount() + ucp.getAvailableConnectionsCount();
        } catch (SQLException e) {
            return -1;
        }
    }

    /** How many times a physical connection had to change identity (a round trip each). */
    public long identitySwitches() {
        return identitySwitches.sum();
    }

    /** Pooled sessions found at borrow time no longer running as their label (IdentityCheck=VERIFY). */
    public long escapesFound() {
        return escapesFound.sum();
    }

    /** Physical connections thrown away (fatal error, identity changed by SQL). */
    public long discardedCount() {
        return discarded.sum();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes every physical connection. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (dialect.closeIdentitiesOnShutdown()) {
            closeIdleIdentities();
        }
        try {
            UniversalConnectionPoolManagerImpl.getUniversalConnectionPoolManager().destroyConnectionPool(name);
        } catch (UniversalConnectionPoolException e) {
            // Never started (no borrow yet): nothing to close.
            LOG.log(Level.FINE, "proxyra: destroying pool " + name, e);
        }
        LOG.fine(() -> "proxyra: closed pool " + name);
    }
}
