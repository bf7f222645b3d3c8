package dev.proxyra.reliability;

import static jakarta.resource.spi.ConnectionEvent.CONNECTION_CLOSED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.IdentityRequest;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.LogCapture;
import dev.proxyra.testing.RecordingListener;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * Application misuse: a handle used after close, commit() inside a container transaction, a handle
 * never closed (reported with where it was taken and reclaimed when the transaction ends; UCP reclaims
 * an abandoned physical connection), and the application's own role-changing SQL under load.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class ApplicationMisuseTest {
    private static final IdentityRequest ALICE = new IdentityRequest(DbIdentity.of("alice", "alice"));

    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private final RecordingListener events = new RecordingListener();
    private LogCapture log;

    @BeforeAll
    static void roleChangingFunction(Database db) throws SQLException {
        // A function whose name says nothing about roles: only asking the database can catch it.
        db.execute("CREATE OR REPLACE FUNCTION reliability_innocent(r text) RETURNS int LANGUAGE plpgsql AS"
                + " $$ BEGIN EXECUTE 'SET ROLE ' || quote_ident(r); RETURN 1; END $$;"
                + " GRANT EXECUTE ON FUNCTION reliability_innocent(text) TO callers");
    }

    @BeforeEach
    void setUp(Database db) {
        this.db = db;
        mcf = Factories.onUrl(db.url()).maxPoolSize(4).waitTimeout(5).build();
        log = LogCapture.on("dev.proxyra", Level.INFO);
    }

    @AfterEach
    void tearDown() {
        log.close();
        TestCallers.set(null);
        mcf.close();
    }

    private ManagedConnection managed() throws Exception {
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        mc.addConnectionEventListener(events);
        return mc;
    }

    private int notes(String body) throws SQLException {
        return (int) db.queryLong("select count(*) from notes where body = '" + body + "'");
    }

    @Test
    void aHandleUsedAfterCloseFailsWith08003AndRunsNothing() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set("alice");
        Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select 1");
        var ps = c.prepareStatement("select ?");
        c.close();
        db.resetStatementStats();
        List<String> outcomes = new ArrayList<>();
        for (Misuse call : new Misuse[] {c::createStatement, () -> c.prepareStatement("select 1"), c::commit,
                c::rollback, () -> c.setAutoCommit(false), c::getMetaData, () -> c.unwrap(org.postgresql.PGConnection.class),
                () -> s.executeQuery("select 1"), () -> s.execute("SET ROLE bob"), rs::next, ps::executeQuery}) {
            try {
                call.run();
                outcomes.add("no error");
            } catch (SQLException e) {
                outcomes.add(e.getSQLState());
                assertThat(e.getMessage()).startsWith("proxyra:").contains("is closed");
            }
        }
        c.close(); // idempotent
        long ranAsAlice = db.statementsRunAs("alice").values().stream().mapToLong(Long::longValue).sum();
        Scenario.figures("misuse-handle-after-close", "requests=" + outcomes.size() + " errors=" + outcomes
                + " wrong=0 statementsRunAfterClose=" + ranAsAlice + " recovery=n/a physicalAtEnd="
                + mcf.pool().totalCount() + " lentOut=" + mcf.pool().lentOut());
        assertThat(outcomes).containsOnly("08003");
        assertThat(ranAsAlice).as("statements that reached the database through the closed handle").isZero();
        assertThat(mcf.pool().lentOut()).isZero();
        try (Connection again = ds.getConnection()) {
            assertThat(Sessions.currentUser(again)).isEqualTo("alice");
        }
    }

    @Test
    void commitRollbackAndAutoCommitInsideAContainerTransactionAreRefusedAndChangeNothing() throws Exception {
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        Connection c = (Connection) mc.getConnection(null, ALICE);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into notes(body) values ('misuse: commit inside tx')");
        }
        List<String> outcomes = new ArrayList<>();
        for (Misuse call : new Misuse[] {c::commit, c::rollback, () -> c.setAutoCommit(true)}) {
            try {
                call.run();
                outcomes.add("no error");
            } catch (SQLException e) {
                outcomes.add(e.getSQLState());
                assertThat(e.getMessage()).startsWith("proxyra:").contains("not allowed inside a managed transaction");
            }
        }
        int visibleBeforeServerCommit = notes("misuse: commit inside tx");
        c.close();
        mc.getLocalTransaction().rollback(); // the server decides: its rollback undoes what the application "committed"
        int afterServerRollback = notes("misuse: commit inside tx");
        mc.cleanup();
        mc.destroy();
        Scenario.figures("misuse-commit-in-container-tx", "requests=3 errors=" + outcomes + " wrong=0"
                + " rowsVisibleAfterAppCommit=" + visibleBeforeServerCommit + " rowsAfterServerRollback="
                + afterServerRollback + " recovery=n/a physicalAtEnd=" + mcf.pool().totalCount()
                + " lentOut=" + mcf.pool().lentOut());
        assertThat(outcomes).containsExactly("25000", "25000", "25000");
        assertThat(visibleBeforeServerCommit).isZero();
        assertThat(afterServerRollback).isZero();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /** The application's mistake: a helper that takes a handle and forgets it. Its name must appear in the report. */
    private Connection takeAndForget(ManagedConnection mc) throws Exception {
        Connection c = (Connection) mc.getConnection(null, ALICE);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into notes(body) values ('misuse: never closed')");
        }
        return c;
    }

    @Test
    void aHandleNeverClosedIsReportedWithWhereItWasTakenAndReclaimedWhenTheTransactionEnds() throws Exception {
        mcf.setLeakDetection("true");
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        Connection leaked = takeAndForget(mc);
        mc.getLocalTransaction().commit();

        List<LogRecord> reports = log.records().stream().filter(r -> r.getLevel() == Level.WARNING
                && r.getMessage() != null && r.getMessage().contains("still open when its transaction ended")).toList();
        String where = reports.isEmpty() || reports.get(0).getThrown() == null ? "" : stackOf(reports.get(0).getThrown());
        List<Integer> ids = events.ids();
        boolean closedEventForLeak = events.events.stream()
                .anyMatch(e -> e.getId() == CONNECTION_CLOSED && e.getConnectionHandle() == leaked);
        mc.cleanup();
        int committed = notes("misuse: never closed");
        Scenario.figures("misuse-handle-never-closed", "requests=1 leaksReported=" + reports.size()
                + " withStackTrace=" + where.contains("takeAndForget") + " handleClosed=" + leaked.isClosed()
                + " closedEvent=" + closedEventForLeak + " committedRows=" + committed + " wrong=0 errors={}"
                + " recovery=n/a physicalAtEnd=" + mcf.pool().totalCount() + " lentOut=" + mcf.pool().lentOut());
        assertThat(reports).as("WARNING reports from logger dev.proxyra").hasSize(1);
        assertThat(reports.get(0).getLoggerName()).startsWith("dev.proxyra");
        assertThat(where).as("stack trace of where the handle was taken").contains("takeAndForget")
                .contains(ApplicationMisuseTest.class.getName());
        assertThat(leaked.isClosed()).as("the adapter closed the leaked handle").isTrue();
        assertThat(closedEventForLeak).as("CONNECTION_CLOSED sent for the leaked handle, events " + ids).isTrue();
        assertThatThrownBy(leaked::createStatement).extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08003");
        assertThat(committed).isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
        mc.destroy();
    }

    @Test
    void withoutLeakDetectionAHandleMaySpanTransactionsAndTheServersCleanupReclaimsIt() throws Exception {
        ManagedConnection mc = managed();
        mc.getLocalTransaction().begin();
        Connection spanning = takeAndForget(mc);
        mc.getLocalTransaction().rollback();
        List<LogRecord> reports = log.records().stream().filter(r -> r.getLevel() == Level.WARNING
                && r.getMessage() != null && r.getMessage().contains("still open when its transaction ended")).toList();
        boolean usableAfterTransaction = !spanning.isClosed() && spanning.isValid(5);
        Scenario.figures("misuse-handle-spanning-transactions", "requests=1 leaksReported=" + reports.size()
                + " usableAfterTransaction=" + usableAfterTransaction + " wrong=0 errors={} recovery=n/a physicalAtEnd="
                + mcf.pool().totalCount() + " lentOut=" + mcf.pool().lentOut() + " (before cleanup)");
        assertThat(reports).isEmpty();
        assertThat(usableAfterTransaction).as("JCA lets a handle span transactions").isTrue();
        mc.cleanup();
        assertThat(spanning.isClosed()).as("the server's cleanup closes what the application left open").isTrue();
        mc.destroy();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void anAbandonedPhysicalConnectionIsReclaimedAndItsOldHandleNeverRunsAsTheNextCaller() throws Exception {
        mcf.setMaxPoolSize(1);
        mcf.setAbandonedConnectionTimeout(1);
        // bob must be served within his wait: far longer than the configured 1 s of abandonment
        mcf.setConnectionWaitTimeout(10);
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set("alice");
        Connection abandoned = ds.getConnection(); // never closed, never used again by its owner
        assertThat(Sessions.currentUser(abandoned)).isEqualTo("alice");
        long began = System.nanoTime();
        TestCallers.set("bob");
        String bobRanAs;
        Connection bobsConnection;
        try {
            bobsConnection = ds.getConnection(); // waits until UCP reclaims alice's connection
        } catch (SQLException e) {
            Scenario.figures("misuse-abandoned-connection", "requests=2 errors={" + Tally.kindOf(e) + "=1}"
                    + " (AbandonedConnectionTimeout=1s, ConnectionWaitTimeout=10s: not reclaimed within the wait)"
                    + " wrong=0 recovery=none physicalAtEnd=" + mcf.pool().totalCount() + " lentOut=" + mcf.pool().lentOut());
            abandoned.close();
            throw new AssertionError("an abandoned connection (AbandonedConnectionTimeout=1s) was not reclaimed within"
                    + " bob's ConnectionWaitTimeout of 10s", e);
        }
        try (Connection bob = bobsConnection) {
            bobRanAs = Sessions.currentUser(bob);
            long reclaimedAfter = System.nanoTime() - began;
            int lentWhileBobHolds = mcf.pool().lentOut();
            String oldHandle;
            try {
                oldHandle = "ran as " + Sessions.currentUser(abandoned);
            } catch (SQLException e) {
                oldHandle = e.getSQLState() + " " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            Scenario.figures("misuse-abandoned-connection", "requests=2 reclaimedAfter=" + Scenario.seconds(reclaimedAfter)
                    + " (AbandonedConnectionTimeout=1s) nextCallerRanAs=" + bobRanAs + " oldHandle=" + oldHandle
                    + " wrong=" + (oldHandle.startsWith("ran as") ? 1 : 0) + " recovery=n/a physicalAtEnd="
                    + mcf.pool().totalCount() + " lentOutWhileBobHolds=" + lentWhileBobHolds);
            assertThat(bobRanAs).isEqualTo("bob");
            assertThat(oldHandle).as("the abandoned handle after its connection was reclaimed").doesNotStartWith("ran as");
        }
        abandoned.close();
        assertThat(mcf.pool().lentOut()).as("leaked borrows after the abandoned handle is closed").isZero();
    }

    @Test
    void roleChangingSqlFromTheApplicationNeverReachesAnotherRequestUnderLoad() throws Exception {
        int threads = 8;
        int requests = 3_000;
        String[] escapes = {"SET ROLE caller002", "RESET ROLE", "select set_config('role', 'caller003', false)",
            "SET SESSION AUTHORIZATION DEFAULT", "select reliability_innocent('caller004')", "set local role caller005",
            "DISCARD ALL"};
        ProxyraDataSource ds = Factories.dataSource(mcf);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger escaped = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        Tally errors = new Tally();
        List<String> wrong = new CopyOnWriteArrayList<>();
        long discardedBefore = mcf.pool().discardedCount();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < requests) {
                        String caller = Scenario.caller(10 + i % 20);
                        TestCallers.set(caller);
                        try (Connection c = ds.getConnection()) {
                            String mismatch = Scenario.wrongIdentity(c, caller);
                            if (mismatch != null) {
                                wrong.add(mismatch);
                            }
                            if (i % 10 == 0) {
                                try (Statement s = c.createStatement()) {
                                    s.execute(escapes[(i / 10) % escapes.length]);
                                }
                                escaped.incrementAndGet();
                            }
                            ok.incrementAndGet();
                        } catch (SQLException e) {
                            errors.add(e);
                        }
                    }
                    TestCallers.set(null);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(3, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        // IdentityCheck=VERIFY finds a role changed inside a function when the session is next reused: reuse
        // every pooled session once, all at the same time, so that none that escaped is left unchecked.
        List<Connection> everySession = new ArrayList<>();
        TestCallers.set(Scenario.caller(10));
        try {
            for (int k = mcf.pool().totalCount(); k > 0; k--) {
                Connection c = ds.getConnection();
                everySession.add(c);
                assertThat(Scenario.wrongIdentity(c, Scenario.caller(10))).isNull();
            }
        } finally {
            for (Connection c : everySession) {
                c.close();
            }
            TestCallers.set(null);
        }
        long discarded = mcf.pool().discardedCount() - discardedBefore;
        Scenario.figures("misuse-role-changing-sql", "requests=" + requests + " ok=" + ok.get() + " errors=" + errors
                + " escapes=" + escaped.get() + " wrong=" + wrong.size() + " discarded=" + discarded
                + " recovery=n/a physicalAtEnd=" + mcf.pool().totalCount() + " lentOut=" + mcf.pool().lentOut());
        assertThat(wrong).as("requests that started as someone else").isEmpty();
        assertThat(errors.snapshot()).isEmpty();
        assertThat(escaped.get()).isEqualTo(requests / 10);
        // every session whose role the application changed was thrown away, and only those
        assertThat(discarded).isEqualTo(escaped.get());
        assertThat(mcf.pool().lentOut()).isZero();
    }

    private static String stackOf(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    @FunctionalInterface
    interface Misuse {
        void run() throws Exception;
    }
}
