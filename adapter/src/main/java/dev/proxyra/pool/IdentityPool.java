package dev.proxyra.pool;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.resource.spi.TransactionSupport.TransactionSupportLevel;

import oracle.ucp.UniversalConnectionPoolException;
import oracle.ucp.admin.UniversalConnectionPoolManagerImpl;
import oracle.ucp.jdbc.LabelableConnection;
import oracle.ucp.jdbc.PoolDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;
import oracle.ucp.jdbc.ValidConnection;

import dev.proxyra.SqlState;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.config.Redact;
import dev.proxyra.config.Redacted;
import dev.proxyra.config.Secret;
import dev.proxyra.dialect.Dialect;
import dev.proxyra.dialect.UnsafeProxyAccountException;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.monitoring.HealthReport;
import dev.proxyra.monitoring.PoolMetrics;
import dev.proxyra.monitoring.PoolMetrics.Discard;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.monitoring.Refusal;

/**
 * One UCP pool of physical connections logged in as the proxy account, and the one lifecycle every
 * session goes through, with the invariants enforced where they are written:
 *
 * <ol>
 * <li><b>Borrow</b> ({@link #borrow}): UCP hands out a connection, preferring one whose label is the wanted
 * identity. Every borrow names its label: an unlabelled UCP borrow may return a connection still in another
 * identity. A connection without a label never served anyone since it logged in. Until the proxy account has
 * passed {@link Dialect#checkProxyAccount} (it reaches nothing beyond the identities it serves), nothing is lent.</li>
 * <li><b>Verify / switch</b>: a session labelled with the wanted identity is checked to be intact (the
 * driver's record; with {@code IdentityCheck=VERIFY} also the database's answer); any other is switched
 * ({@link Dialect#changeIdentity}), which also resets everything the previous identity left on the session
 * to what a fresh login has, in the same round trip. A session that fails a check, or whose reset fails, is
 * discarded and another one borrowed: it is never lent. A switch the database refuses leaves the session
 * as it was, labelled as it is, back in the pool.</li>
 * <li><b>Lend</b>: the application reaches the session only through handles that die with the lending.</li>
 * <li><b>Return</b> ({@link #release}): what the application left running that holds the session (an unfinished
 * COPY) is ended, within UCP's ConnectionValidationTimeout; any open transaction, however it was begun, is rolled back (judged by
 * the protocol's state, never the auto-commit flag): unfinished work is never committed by anyone else. What
 * the application changed through the JDBC API is put back. A session that saw a fatal error, ran SQL that
 * may have changed its identity, no longer agrees with its label, or could not be restored is discarded.
 * The label stays, so the same identity's next borrow finds a warm session: what SQL left on it (settings,
 * temporary objects, prepared statements, cursors, LISTEN, advisory locks) is kept for that identity and
 * reset before any other.</li>
 * </ol>
 * UCP does sizing, waiting, validation and replacement of dead connections. Every borrow, refusal and discard is
 * counted in {@link PoolMetrics}, which JMX shows as {@code dev.proxyra:type=Pool,name=<name>} ({@link PoolMonitor}).
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

    /** The pool's life; it only moves forward. */
    enum State {
        /** Lends sessions. */
        OPEN,
        /** No factory uses it any more: it lends nothing, and is destroyed when its last lending ends. */
        RETIRED,
        /** Its physical connections are closed, or being closed; nothing is lent. */
        DESTROYED
    }

    private final ProxyraConfig config;
    private final Dialect dialect;
    private final String user;
    private final Secret password;
    private final PoolDataSource ucp;
    /** UCP's labelling callback: label sets per identity, and which free session a switch should take. */
    private final IdentityLabels labels = new IdentityLabels();
    private final RecentRefusals recentRefusals = new RecentRefusals();
    /** The pool's name for operators: PoolName, or user@database; the JMX name and the name in messages. */
    private final String name;
    /** UCP's name for the pool, unique within the process (see LOADER_TAG). */
    private final String ucpName;
    private final PoolMetrics metrics;
    private final PoolMonitor monitor;
    private final boolean tagClients;
    private final LongAdder escapesFound = new LongAdder();
    private final boolean verifyOnBorrow;
    /**
     * When UCP's validation answers locally (pgjdbc, see LocallyValidatedConnection), the borrow's own round trip is
     * the validation, and is bounded as UCP bounds its own: each network read at most ConnectionValidationTimeout
     * seconds (or NetworkTimeout when shorter), so a session whose peer vanished without a word is found in seconds,
     * not when TCP gives up. 0: UCP validates itself.
     */
    private final int validationTimeout;
    /**
     * How long a return may take to end what the application left running on the session (an unfinished COPY):
     * UCP's ConnectionValidationTimeout seconds, each network read also within NetworkTimeout when that is shorter.
     */
    private final int unfinishedWorkTimeout;
    /** Whether a warm borrow that makes no round trip of its own asks the driver (IdentityCheck=SCAN). */
    private final boolean validateWarmBorrows;
    private final AtomicInteger lentOut = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicReference<State> state =
            new java.util.concurrent.atomic.AtomicReference<>(State.OPEN);
    /** Whether UCP created its pool (the first borrow does), so its introspection of the factory can be forgotten. */
    private volatile boolean ucpStarted;
    /** Whether the proxy account passed {@link Dialect#checkProxyAccount}; until it does, the pool lends nothing. */
    private volatile boolean proxyAccountChecked;
    /** The problems of the last new session refused for what its login gave it, logged once while they last. */
    private volatile List<String> loginProblemsLogged = List.of();

    /** A pool for {@code config} logging in as {@code user}/{@code password} (the effective proxy account). */
    public IdentityPool(ProxyraConfig config, Dialect dialect, String user, Secret password) throws SQLException {
        this.config = config;
        this.dialect = dialect;
        this.user = user;
        this.password = password;
        this.tagClients = config.clientIdentifier() && dialect.tagsClients();
        this.verifyOnBorrow = dialect.identityChangeableBySql() && config.identityCheck() == ProxyraConfig.IdentityCheck.VERIFY;
        this.ucpName = "proxyra-" + POOL_NUMBER.incrementAndGet() + "-" + LOADER_TAG;
        this.name = config.poolName() != null ? config.poolName() : PoolMonitor.defaultName(user, config.url());
        this.metrics = new PoolMetrics(name);
        UcpRuntime.poolOpened();
        try {
            this.ucp = UcpRuntime.underAdapterLoader(this::createUcp);
        } catch (SQLException | RuntimeException e) {
            UcpRuntime.poolClosed();
            throw e;
        }
        this.validationTimeout = dialect.poolValidatesLocally(ucp.getConnectionFactoryClassName())
                ? Math.max(1, ucp.getConnectionValidationTimeout()) : 0;
        this.unfinishedWorkTimeout = Math.max(1, ucp.getConnectionValidationTimeout());
        this.validateWarmBorrows = validationTimeout > 0 && config.validateConnectionOnBorrow() && !verifyOnBorrow;
        this.monitor = PoolMonitor.register(this);
        LOG.info(() -> "proxyra: pool " + name + " started (JMX " + monitor.objectName() + "): " + config
                + (config.user() == null ? " as " + user + " (the server's credential)" : ""));
    }

    private PoolDataSource createUcp() throws SQLException {
        PoolDataSource ucp = PoolDataSourceFactory.getPoolDataSource();
        ucp.setConnectionPoolName(ucpName);
        String factoryClassName = config.connectionFactoryClassName() != null
                ? config.connectionFactoryClassName() : dialect.connectionFactoryClassName();
        dialect.checkConfiguration(config, factoryClassName, user);
        ucp.setConnectionFactoryClassName(factoryClassName);
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
            ucp.setPassword(password.reveal());
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
        ucp.registerConnectionLabelingCallback(labels);
        return ucp;
    }

    public ProxyraConfig config() {
        return config;
    }

    public String name() {
        return name;
    }

    /** What this pool counted since it opened. */
    public PoolMetrics metrics() {
        return metrics;
    }

    public Dialect dialect() {
        return dialect;
    }

    /** The label sets this pool remembers, one per recently wanted identity (bounded). */
    IdentityLabels labels() {
        return labels;
    }

    /** Borrows a physical connection and makes it run as {@code identity}, in a state fit for it. */
    public Lease borrow(DbIdentity identity) throws SQLException {
        try {
            return borrowTimed(identity, System.nanoTime());
        } catch (SQLException e) {
            Refusal reason = Refusal.of(e);
            if (reason != null) {
                metrics.refused(reason, e);
            }
            throw e;
        }
    }

    /**
     * Takes sessions until one runs as {@code identity}: each try is one attempt (check or switch) and one verdict
     * ({@link BorrowVerdict}), within one {@link RetryBudget}. Every session taken leaves through {@link #end}, or is
     * lent.
     */
    private Lease borrowTimed(DbIdentity identity, long started) throws SQLException {
        if (state.get() != State.OPEN) {
            throw new SQLTransientConnectionException("proxyra: pool " + name + " is closed (the resource adapter"
                    + " stopped or its configuration changed)", SqlState.CONNECTION_DOES_NOT_EXIST);
        }
        if (!identity.isProxyAccount() && identity.databaseUser().equalsIgnoreCase(user)) {
            // SET ROLE to the login role always succeeds (and an Oracle proxy session as itself makes no
            // sense): a caller of that name would run as the proxy account, which only UnauthenticatedAccess grants.
            throw Refusal.NOT_AUTHORIZED.authorization("proxyra: caller '" + identity.caller()
                    + "' maps to database user '" + identity.databaseUser() + "', the proxy account itself; refused",
                    null);
        }
        String want = IdentityLabels.valueFor(identity);
        String refusedRecently = identity.password() == null ? recentRefusals.recent(want) : null;
        if (refusedRecently != null) {
            throw notAuthorized(identity, refusedRecently + "; refused again without a new try for up to "
                    + RecentRefusals.MEMORY_SECONDS + " s (each try costs a physical connection)", null);
        }
        Properties wanted = labels.borrowing(want, identity);
        RetryBudget budget = new RetryBudget(config.maxPoolSize(), config.connectionWaitTimeout(), System::nanoTime);
        while (true) {
            Lease lease = take(wanted);
            budget.tried();
            if (!proxyAccountChecked && !proxyAccountPasses(lease, budget)) {
                continue; // the session was dead: another one checks
            }
            String have = null;
            Prepared prepared = null;
            SQLException failure = null;
            BorrowVerdict verdict;
            long roundTrip = System.nanoTime();
            try {
                String label = labelOf(lease.connection());
                have = label;
                prepared = dialect.bounded(lease.connection(), validationTimeout,
                        () -> prepare(lease.connection(), label, want, identity));
                verdict = BorrowVerdict.ofCheck(prepared != Prepared.ESCAPED, budget.left());
            } catch (UnsafeProxyAccountException e) {
                end(lease, Discard.STATE_NOT_RESET, "its login gave it what would reach every caller");
                throw unsafeProxyAccount(e);
            } catch (SQLException e) {
                budget.refund(roundTrip);
                failure = e;
                verdict = BorrowVerdict.ofFailure(dialect.classifySwitchFailure(e), have != null, budget.left(),
                        dialect.refusalEndsSession());
            } catch (RuntimeException | Error e) {
                end(lease, Discard.STATE_NOT_RESET, "unexpected failure while switching identity");
                throw e;
            }
            budget.counted(verdict);
            switch (verdict) {
                case LEND -> {
                    if (prepared.outcome() == Outcome.NEW_PHYSICAL && !loginProblemsLogged.isEmpty()) {
                        loginProblemsLogged = List.of(); // they were removed: should they come back, say so again
                    }
                    lease.lend(identity);
                    metrics.borrowed(prepared.outcome(), System.nanoTime() - started, want);
                    return lease;
                }
                case REFUSED_GIVE_BACK -> throw giveBackRefused(lease, have, identity, failure);
                default -> {
                    end(lease, verdict.discard(), discardReason(verdict, failure));
                    if (!verdict.tryAnother()) {
                        throw refusalAfter(verdict, identity, failure, budget);
                    }
                }
            }
        }
    }

    /** What a check or switch made of a session: how it came to run as the caller, or that it failed its check. */
    private record Prepared(Outcome outcome) {
        /** The session no longer ran as its label said: it is discarded, never lent. */
        static final Prepared ESCAPED = new Prepared(null);
    }

    /**
     * Runs the check of what the proxy account may reach on the first session taken, until it passes once. False: the
     * session was dead and another may be tried; throws when the pool must lend nothing.
     */
    private boolean proxyAccountPasses(Lease lease, RetryBudget budget) throws SQLException {
        Connection connection = lease.connection();
        try {
            dialect.bounded(connection, validationTimeout, () -> {
                dialect.checkProxyAccount(connection);
                return null;
            });
        } catch (SQLException | RuntimeException e) {
            return proxyAccountFailed(lease, budget, e);
        }
        if (config.transactionSupport() == TransactionSupportLevel.XATransaction) {
            try {
                dialect.bounded(connection, validationTimeout, () -> {
                    dialect.checkTwoPhase(connection);
                    return null;
                });
            } catch (SQLException | RuntimeException e) {
                boolean fatal = e instanceof SQLException s && dialect.classify(s) == Dialect.ErrorKind.FATAL;
                if (fatal) {
                    return proxyAccountFailed(lease, budget, e);
                }
                end(lease, Discard.STATE_NOT_RESET, "checking two-phase commit failed");
                throw Refusal.CONFIGURATION.authorization("proxyra: pool " + name + " lends no session: "
                        + Secret.scrub(e.getMessage(), password), e);
            }
        }
        proxyAccountChecked = true;
        return true;
    }

    private boolean proxyAccountFailed(Lease lease, RetryBudget budget, Exception e) throws SQLException {
        boolean fatal = e instanceof SQLException s && dialect.classify(s) == Dialect.ErrorKind.FATAL;
        end(lease, fatal ? Discard.FATAL_ERROR : Discard.STATE_NOT_RESET,
                "checking what the proxy account may reach failed");
        if (fatal && budget.left()) {
            budget.counted(BorrowVerdict.DEAD_TRY_ANOTHER);
            return false;
        }
        if (fatal) {
            // the database failed, not the configuration: transient, with the driver's SQLState and exception chained
            // as the next one (as DEAD_GIVE_UP), so that the caller may try again once it answers
            SQLException failure = (SQLException) e;
            // class 08 as every transient connection refusal, also for 57P01-57P03 (a shutdown or restart)
            String state = SqlState.isConnectionException(failure.getSQLState()) ? failure.getSQLState()
                    : SqlState.CONNECTION_FAILURE;
            SQLException refused = Refusal.DATABASE_UNREACHABLE.transientConnection("proxyra: pool " + name
                    + ": the connection to the database failed while checking what the proxy account may reach: "
                    + Secret.scrub(failure.getMessage(), password) + " [SQLState " + failure.getSQLState() + "]",
                    state, failure);
            refused.setNextException(failure);
            throw refused;
        }
        throw e instanceof UnsafeProxyAccountException unsafe ? unsafeProxyAccount(unsafe)
                : Refusal.CONFIGURATION.authorization("proxyra: pool " + name + " lends no session: what"
                + " the proxy account '" + user + "' may reach could not be checked: "
                + Secret.scrub(e.getMessage(), password), e);
    }

    private String discardReason(BorrowVerdict verdict, SQLException failure) {
        return switch (verdict) {
            case ESCAPED_TRY_ANOTHER, ESCAPED_GIVE_UP -> "it no longer ran as its label said (application SQL or code"
                    + " outside proxyra changed its identity)";
            // A pooled session that is dead, or whose check or reset failed (whatever its own SQL left on it, e.g. a
            // statement_timeout), is no good to anyone. This round trip is the borrow's validation (UCP's answers
            // locally with pgjdbc): a session that never served anyone may be dead too.
            case DEAD_TRY_ANOTHER, FAILED_TRY_ANOTHER -> "it failed when borrowed: "
                    + Secret.scrub(failure.getMessage(), password);
            case REFUSED_SESSION_ENDED -> "the database refused a switch and the driver logged off its session";
            default -> "switching identity failed: " + Secret.scrub(failure.getMessage(), password);
        };
    }

    /** What the caller gets from a borrow that gives up with {@code verdict}. */
    private SQLException refusalAfter(BorrowVerdict verdict, DbIdentity identity, SQLException failure,
            RetryBudget budget) {
        return switch (verdict) {
            case ESCAPED_GIVE_UP -> Refusal.DATABASE_UNREACHABLE.transientConnection("proxyra: pool " + name
                    + " found no usable session in " + budget.tries() + " tries within ConnectionWaitTimeout="
                    + config.connectionWaitTimeout() + "s: " + budget.escaped() + " no longer ran as their label said"
                    + " and " + budget.dead() + " were dead or failed; all were discarded",
                            SqlState.UNABLE_TO_CONNECT, null);
            case DEAD_GIVE_UP -> {
                // The refusal keeps the driver's SQLState and chains the driver's exception as the next one, where
                // the dialect finds its error code: the managed connection still reports the fatal error as such.
                SQLException refused = Refusal.DATABASE_UNREACHABLE.transientConnection("proxyra: pool " + name
                        + ": the connection to the database failed while switching identity: "
                        + Secret.scrub(failure.getMessage(), password), failure.getSQLState(), failure);
                refused.setNextException(failure);
                yield refused; // counted by borrow(), as every refusal
            }
            case REFUSED_SESSION_ENDED -> {
                String reason = refusalReason(failure);
                if (identity.password() == null) {
                    recentRefusals.remember(IdentityLabels.valueFor(identity), reason);
                }
                yield notAuthorized(identity, reason, failure);
            }
            case FAILED_GIVE_UP -> {
                // Neither a refusal of the identity nor a dead connection (a cancel, a statement_timeout): the caller
                // gets proxyra's reason, counted as every refusal, with the driver's SQLState and its exception as
                // the cause and the next one, as for a dead connection.
                SQLException refused = Refusal.DATABASE_UNREACHABLE.transientConnection("proxyra: pool " + name
                        + " could not switch a session to '" + identity.label() + "' for caller '" + identity.caller()
                        + "': " + Secret.scrub(failure.getMessage(), password) + " [SQLState " + failure.getSQLState()
                        + "]; the session was discarded",
                        failure.getSQLState() != null ? failure.getSQLState() : SqlState.UNABLE_TO_CONNECT, failure);
                refused.setNextException(failure);
                yield refused; // counted by borrow(), as every refusal
            }
            default -> throw new IllegalStateException("proxyra: no refusal follows " + verdict);
        };
    }

    private static String refusalReason(SQLException e) {
        return e.getMessage() + " [SQLState " + e.getSQLState() + ", error " + e.getErrorCode() + "]";
    }

    /**
     * The refusal for a proxy account that reaches more than its callers: no session is lent until that is fixed (the
     * check before the first lending runs again on each borrow until it passes; a new session is checked at its first
     * lending). A new session refused for its defaults is logged as SEVERE, once while the same defaults last.
     */
    private SQLException unsafeProxyAccount(UnsafeProxyAccountException e) {
        if (!e.atLogin()) {
            return Refusal.CONFIGURATION.authorization("proxyra: pool " + name + " lends no session: " + e.getMessage(), e);
        }
        if (!e.problems().equals(loginProblemsLogged)) {
            loginProblemsLogged = e.problems();
            LOG.severe("proxyra: pool " + name + ": " + e.getMessage());
        }
        return Refusal.CONFIGURATION.authorization("proxyra: pool " + name + " refused a new session: "
                + e.getMessage(), e);
    }

    private boolean mayRetry(int attempts, long retryUntil) {
        return attempts <= config.maxPoolSize() && System.nanoTime() < retryUntil;
    }

    /**
     * Verify or switch: makes a borrowed connection, labelled {@code have}, run as {@code identity}, labelled
     * {@code want}, and says how; {@link Prepared#ESCAPED} when the session failed its identity check.
     */
    private Prepared prepare(Connection connection, String have, String want, DbIdentity identity) throws SQLException {
        Outcome outcome;
        // A password means the caller must be authenticated now: never reuse a warm session for it.
        if (want.equals(have) && identity.password() == null) {
            if (validateWarmBorrows && !dialect.isValid(connection, validationTimeout)) {
                throw new SQLNonTransientConnectionException("proxyra: a pooled session of pool " + name
                        + " did not answer its validation within " + validationTimeout + " s",
                                SqlState.CONNECTION_FAILURE);
            }
            boolean intact = dialect.identityIntact(connection, identity)
                    && (!verifyOnBorrow || dialect.verify(connection, identity));
            if (!recordCheck(intact, have)) {
                return Prepared.ESCAPED;
            }
            outcome = Outcome.WARM;
        } else {
            DbIdentity previous = IdentityLabels.identityIn(have);
            if (have != null && previous == null) {
                recordCheck(false, have); // a label proxyra did not write: state unknown
                return Prepared.ESCAPED;
            }
            LabelableConnection labelable = (LabelableConnection) connection;
            if (have != null) {
                // From here until the switch succeeds the session's identity is unknown: no labels.
                labelable.removeConnectionLabel(IdentityLabels.KEY);
                labelable.removeConnectionLabel(IdentityLabels.CLIENT_KEY);
            }
            if (!recordCheck(dialect.changeIdentity(connection, previous, identity, verifyOnBorrow), have)) {
                return Prepared.ESCAPED;
            }
            labelable.applyConnectionLabel(IdentityLabels.KEY, want);
            // a connection without a label never served anyone since it logged in
            outcome = have == null ? Outcome.NEW_PHYSICAL : Outcome.SWITCHED;
        }
        if (tagClients) {
            tagClient(connection, identity);
        }
        if (identity.component() != null) {
            dialect.tagComponent(connection, identity.component()); // EndToEndTags=APPLICATION
        }
        return new Prepared(outcome);
    }

    /**
     * Return: ends the lending. Rolls back whatever transaction is open, puts back what the application changed
     * through the JDBC API, and gives the session back to UCP with its label, or discards it when it cannot be
     * trusted with the next borrower.
     */
    public void release(Lease lease) {
        Connection connection = lease.connection();
        Lease.Taint taint = lease.worstTaint();
        Discard discard = null;
        String reason = null;
        if (taint != null) {
            discard = taint.discard();
            reason = taint.reason();
            if (lease.has(Lease.Taint.CALLS_STILL_RUNNING) && taint != Lease.Taint.BROKEN) {
                // Waiting for them would let one caller hold a return for as long as its SQL runs, and a reset done
                // before they leave could be undone by them: stop them and never lend the session again. On a broken
                // connection there is nobody left to ask: closing it ends them.
                dialect.cancelRunning(connection);
            }
        } else {
            try {
                dialect.endUnfinishedWork(connection, unfinishedWorkTimeout);
                lease.state().restore(connection, dialect);
                if (!dialect.identityIntact(connection, lease.identity())) {
                    discard = Discard.IDENTITY_CHANGED;
                    reason = "its identity was changed outside proxyra";
                    escapesFound.increment();
                    LOG.warning("proxyra: a session of pool " + name + " was returned with its identity changed outside"
                            + " proxyra; discarded");
                } else if (lease.state().clientInfoChanged()) {
                    // the application's client info may have replaced the caller's client identifier: set it again
                    ((LabelableConnection) connection).removeConnectionLabel(IdentityLabels.CLIENT_KEY);
                }
            } catch (SQLException | RuntimeException e) {
                discard = Discard.STATE_NOT_RESET;
                reason = "its state could not be restored (" + Secret.scrub(e.toString(), password) + ")";
            }
        }
        end(lease, discard, reason);
    }

    /**
     * The one end of every lending, whichever way it ends: no longer counted as lent out, then given back to UCP
     * ({@code discard} null) or thrown away (UCP closes it and opens another when needed); a retired pool whose last
     * lending this was closes. Throws when the lending already ended.
     */
    private void end(Lease lease, Discard discard, String reason) {
        lease.end();
        lentOut.decrementAndGet();
        Connection connection = lease.connection();
        if (discard == null) {
            returnToUcp(connection);
        } else {
            metrics.discarded(discard);
            LOG.fine(() -> "proxyra: discarding a physical connection of pool " + name + ": " + reason);
            try {
                UcpRuntime.underAdapterLoader(() -> {
                    if (connection instanceof ValidConnection valid) {
                        valid.setInvalid();
                    }
                    connection.close();
                    return null;
                });
            } catch (SQLException e) {
                LOG.log(Level.FINE, "proxyra: closing a discarded connection failed", e);
            }
        }
        closeIfDrained();
    }

    /** Retired, and nothing lent out any more: the physical connections close. */
    private void closeIfDrained() {
        if (state.get() == State.RETIRED && lentOut.get() == 0) {
            close();
        }
    }

    private void returnToUcp(Connection connection) {
        try {
            UcpRuntime.underAdapterLoader(() -> {
                connection.close();
                return null;
            });
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: returning a connection to pool " + name + " failed", e);
        }
    }

    private static String labelOf(Connection connection) throws SQLException {
        Properties current = ((LabelableConnection) connection).getConnectionLabels();
        return current == null ? null : current.getProperty(IdentityLabels.KEY);
    }

    /** Takes a session from UCP for one try of a borrow: from here it is counted as lent out until {@link #end}. */
    private Lease take(Properties wanted) throws SQLException {
        Connection connection;
        try {
            // Naming the account spares UCP 23.26 copying its whole property set (getUser()/getPassword() each
            // copy every pool property): ~3-5 KB less per borrow. Same credentials, same physical connections.
            connection = UcpRuntime.underAdapterLoader(() -> user != null && password != null
                    ? ucp.getConnection(user, password.reveal(), wanted) : ucp.getConnection(wanted));
        } catch (SQLException e) {
            throw borrowFailure(e);
        } finally {
            afterFirstBorrow();
        }
        metrics.lentOut(lentOut.incrementAndGet());
        return new Lease(connection, dialect);
    }

    private void afterFirstBorrow() {
        if (!ucpStarted) {
            // the first borrow made UCP create its pool, introspecting the factory class on this thread
            ucpStarted = true;
            UcpRuntime.forgetIntrospection(ucp.getConnectionFactoryClassName());
        }
    }

    /** Counts and logs a session that failed its check; returns whether it passed. */
    private boolean recordCheck(boolean ranAsLabelled, String label) {
        if (!ranAsLabelled) {
            escapesFound.increment();
            LOG.warning(() -> "proxyra: a pooled session of pool " + name + " no longer ran as its label " + label
                    + " (application SQL or code outside proxyra changed its identity); discarded");
        }
        return ranAsLabelled;
    }

    /** ClientIdentifier: the caller's name on the session, set only when it differs from the last one. */
    private void tagClient(Connection connection, DbIdentity identity) throws SQLException {
        String want = identity.caller() == null ? "" : identity.caller();
        LabelableConnection labelable = (LabelableConnection) connection;
        Properties current = labelable.getConnectionLabels();
        if (!dialect.clientTagSurvivesReturn()
                || !want.equals(current == null ? null : current.getProperty(IdentityLabels.CLIENT_KEY))) {
            dialect.tagClient(connection, want);
            labelable.applyConnectionLabel(IdentityLabels.CLIENT_KEY, want);
        }
    }

    /**
     * The database refused the identity: the dialect knows what the session still runs as, and it goes back to UCP
     * labelled so, with the caller's refusal as an SQLException of class 28. With {@code IdentityCheck=VERIFY} the
     * failed statement took the check's answer with it: the session is asked again, so that one whose role was
     * changed is discarded, never relabelled and reused.
     */
    private SQLException giveBackRefused(Lease lease, String have, DbIdentity identity, SQLException e) {
        Connection connection = lease.connection();
        DbIdentity previous = IdentityLabels.identityIn(have);
        DbIdentity now = dialect.identityAfterRefusal(previous);
        Discard discard = null;
        String why = null;
        try {
            if (now != null && verifyOnBorrow
                    && !recordCheck(dialect.bounded(connection, validationTimeout, () -> dialect.verify(connection, now)),
                            have)) {
                discard = Discard.IDENTITY_CHANGED;
                why = "it no longer ran as its label said";
            } else if (now != null) {
                ((LabelableConnection) connection).applyConnectionLabel(IdentityLabels.KEY,
                        now == previous ? have : IdentityLabels.valueFor(now));
            }
        } catch (SQLException checkFailure) {
            discard = dialect.classify(checkFailure) == Dialect.ErrorKind.FATAL ? Discard.FATAL_ERROR
                    : Discard.STATE_NOT_RESET;
            why = "checking a session after a refused switch failed";
        } catch (RuntimeException checkFailure) {
            discard = Discard.STATE_NOT_RESET;
            why = "checking a session after a refused switch failed";
        }
        end(lease, discard, why);
        return notAuthorized(identity, refusalReason(e), e);
    }

    private static SQLException notAuthorized(DbIdentity identity, String reason, SQLException cause) {
        return Refusal.NOT_AUTHORIZED.authorization("proxyra: the proxy account may not act as database user '"
                + identity.databaseUser() + "'" + (identity.caller() != null ? " (caller '" + identity.caller() + "')" : "")
                + ": " + reason, cause);
    }

    private SQLException borrowFailure(SQLException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof IllegalArgumentException) {
            // e.g. pgjdbc's "URL invalid": a configuration error, not an unreachable database
            return Refusal.CONFIGURATION.nonTransientConnection("proxyra: invalid URL '"
                    + Redact.url(config.url()) + "': the driver rejected it ("
                    + Secret.scrub(root.getMessage(), password) + ")",
                            SqlState.UNABLE_TO_CONNECT, Redacted.copyOf(e, password));
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            // class 28: authorization; 08004: the server rejected the connection (pgjdbc: no password was provided)
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (SqlState.isAuthorization(s.getSQLState())
                    || s.getSQLState().equals(SqlState.CONNECTION_REJECTED))) {
                return Refusal.CONFIGURATION.authorization("proxyra: the proxy account '" + user
                        + "' cannot log in to the database (check User and Password): "
                        + Secret.scrub(s.getMessage(), password), Redacted.copyOf(e, password));
            }
        }
        boolean exhausted = borrowedCount() >= config.maxPoolSize();
        String why = exhausted
                ? "pool exhausted: all " + config.maxPoolSize() + " physical connections (MaxPoolSize) are in use"
                : "the database is unreachable or refused the connection";
        String cause = root != e && root.getMessage() != null && !root.getMessage().startsWith("UCP-")
                ? "; " + root.getMessage() : "";
        return (exhausted ? Refusal.POOL_EXHAUSTED : Refusal.DATABASE_UNREACHABLE).transientConnection(
                "proxyra: no connection from pool " + name + " within ConnectionWaitTimeout="
                        + config.connectionWaitTimeout() + "s: " + why + " ("
                        + Secret.scrub(e.getMessage() + cause, password) + ")",
                                SqlState.UNABLE_TO_CONNECT, Redacted.copyOf(e, password));
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

    /** How many times a physical connection had to take an identity (a round trip each): switches and new ones. */
    public long identitySwitches() {
        return metrics.borrows(Outcome.SWITCHED) + metrics.borrows(Outcome.NEW_PHYSICAL);
    }

    /** Pooled sessions found at borrow time no longer running as their label (IdentityCheck=VERIFY). */
    public long escapesFound() {
        return escapesFound.sum();
    }

    /** Physical connections thrown away, for any reason. */
    public long discardedCount() {
        long n = 0;
        for (Discard d : Discard.values()) {
            n += metrics.discards(d);
        }
        return n;
    }

    /** Whether {@code clear} is the password this pool logs in with. */
    public boolean passwordMatches(char[] clear) {
        return password == null ? clear == null || clear.length == 0 : password.matches(clear);
    }

    /** No new borrows: the adapter stopped, or the pool was retired. */
    public boolean isClosed() {
        return state.get() != State.OPEN;
    }

    /** Whether its physical connections are closed (a retired pool is closed to borrows before that). */
    boolean isDestroyed() {
        return state.get() == State.DESTROYED;
    }

    /**
     * No factory uses this pool any more (its configuration changed): no new borrows; the physical connections
     * close as soon as none is lent out.
     */
    void retire() {
        if (state.compareAndSet(State.OPEN, State.RETIRED)) {
            monitor.unregister(); // its successor, with the new configuration, takes the name
            LOG.fine(() -> "proxyra: retired pool " + name + "; it closes when its last lent session returns");
        }
        closeIfDrained();
    }

    /** Closes every physical connection. Idempotent: the first call closes, later ones wait for it and return. */
    @Override
    public synchronized void close() {
        if (state.getAndSet(State.DESTROYED) == State.DESTROYED) {
            return;
        }
        monitor.unregister();
        try {
            UcpRuntime.underAdapterLoader(() -> {
                if (dialect.closeIdentitiesOnShutdown()) {
                    try {
                        closeIdleIdentities();
                    } catch (RuntimeException | LinkageError e) {
                        LOG.log(Level.WARNING, "proxyra: pool " + name + " could not end its idle proxy sessions: " + e, e);
                    }
                }
                try {
                    UniversalConnectionPoolManagerImpl.getUniversalConnectionPoolManager().destroyConnectionPool(ucpName);
                } catch (UniversalConnectionPoolException e) {
                    // Never started (no borrow yet): nothing to close.
                    LOG.log(Level.FINE, "proxyra: destroying pool " + name, e);
                }
                return null;
            });
        } catch (SQLException e) {
            LOG.log(Level.FINE, "proxyra: closing pool " + name, e);
        } catch (LinkageError e) {
            // the server removed the adapter's classes before stopping it: say so, and let the other pools close
            LOG.log(Level.WARNING, "proxyra: pool " + name + " could not close its physical connections: a class it"
                    + " needed could not be loaded (" + e + "); those still open stay open until the database or the JVM"
                    + " ends them", e);
        } finally {
            UcpRuntime.poolClosed();
        }
        LOG.info(() -> "proxyra: pool " + name + " stopped: " + metrics.summary());
    }

    /** The check running now, whose answer concurrent callers share. */
    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CompletableFuture<HealthReport>>
            healthInFlight = new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Whether a physical connection can be had and the database answers: an idle connection, or a new one if the
     * pool has room, is validated by the driver ({@code isValid}; pgjdbc sends an empty query, ojdbc a ping) and
     * given back unchanged, labels and all. One that does not answer is discarded, and another tried while the check's
     * timeout allows: a closed connection or a killed backend answers at once, a peer that vanished silently takes the
     * whole timeout (DOWN; the next check starts with the next session). Never lent, never switched, never counted as
     * a borrow. A pool with every connection lent out is reported DOWN at once instead of waiting for one. One check
     * runs at a time, so probes never take more than one connection: a caller that comes while one runs gets its
     * answer, or DOWN if it takes longer than ConnectionWaitTimeout plus 5 s. Until the proxy account has passed
     * {@link Dialect#checkProxyAccount}, the check runs it too: a pool that would refuse every borrow is DOWN.
     */
    public HealthReport checkHealth() {
        java.util.concurrent.CompletableFuture<HealthReport> mine = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<HealthReport> running = healthInFlight.compareAndExchange(null, mine);
        if (running != null) {
            long started = System.nanoTime();
            long seconds = config.connectionWaitTimeout() + 5L;
            try {
                return running.get(seconds, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return health(false, "the running health check did not finish within " + seconds + " s", started);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return health(false, "interrupted while waiting for the running health check", started);
            } catch (java.util.concurrent.ExecutionException e) {
                return health(false, "the health check failed: " + e.getCause(), started);
            }
        }
        try {
            HealthReport report = check();
            mine.complete(report);
            return report;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            healthInFlight.set(null);
        }
    }

    private HealthReport check() {
        long started = System.nanoTime();
        if (isClosed()) {
            return health(false, "pool closed", started);
        }
        int idle;
        int borrowed;
        try {
            idle = ucp.getAvailableConnectionsCount();
            borrowed = ucp.getBorrowedConnectionsCount();
        } catch (SQLException e) {
            return health(false, "pool statistics unavailable: " + Secret.scrub(e.getMessage(), password), started);
        }
        if (idle == 0 && borrowed >= config.maxPoolSize()) {
            return health(false, "pool exhausted: all " + config.maxPoolSize() + " physical connections (MaxPoolSize)"
                    + " are lent out", started);
        }
        int seconds = Math.min(5, config.connectionWaitTimeout()); // ConnectionWaitTimeout is at least 1
        long retryUntil = started + TimeUnit.SECONDS.toNanos(seconds);
        try {
            return UcpRuntime.underAdapterLoader(() -> {
                for (int attempts = 1; ; attempts++) {
                    try (Connection c = user != null && password != null ? ucp.getConnection(user, password.reveal())
                            : ucp.getConnection()) {
                        if (dialect.isValid(c, seconds)) {
                            if (!proxyAccountChecked) {
                                try {
                                    dialect.bounded(c, seconds, () -> {
                                        dialect.checkProxyAccount(c);
                                        return null;
                                    });
                                    proxyAccountChecked = true;
                                } catch (UnsafeProxyAccountException e) {
                                    return health(false, "the database answered, but the pool lends no session: "
                                            + e.getMessage(), started);
                                }
                            }
                            return health(true, "the database answered; " + idle + " idle, " + borrowed + " lent out"
                                    + " of at most " + config.maxPoolSize(), started);
                        }
                        // dead (a restarted database, a killed backend): UCP closes it instead of pooling it again
                        ((ValidConnection) c).setInvalid();
                        metrics.discarded(Discard.FATAL_ERROR);
                        if (!mayRetry(attempts, retryUntil)) {
                            return health(false, "a physical connection did not answer within " + seconds + " s",
                                    started);
                        }
                    } finally {
                        afterFirstBorrow();
                    }
                }
            });
        } catch (SQLException e) {
            return health(false, borrowFailure(e).getMessage(), started);
        }
    }

    private static HealthReport health(boolean up, String detail, long started) {
        return new HealthReport(up, detail, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }
}
