package dev.proxyra.it;

import static dev.proxyra.testing.Sessions.backendPid;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.IdentityRequest;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.RecordingListener;
import dev.proxyra.testing.ServerLikeConnectionManager;
import dev.proxyra.testing.TestCallers;

/**
 * A caller's calls still running on other threads when its handle closes (or the server cleans its connection up)
 * must not reach the next borrower: alice's thread A waits inside the database, her thread B is queued inside the
 * driver behind it with a BEGIN, and alice closes. The pool has one physical connection, so bob would get that very
 * session. Every step is observed, not timed: A's wait in pg_stat_activity, B parked inside the driver.
 */
@ExtendWith(PostgresExtension.class)
class CallsInFlightTest {
    private static final IdentityRequest ALICE = new IdentityRequest(DbIdentity.of("alice", "alice"));
    private static final IdentityRequest BOB = new IdentityRequest(DbIdentity.of("bob", "bob"));
    /** The advisory lock the test holds so that alice's thread A waits inside the database until released. */
    private static final int LOCK = 424_205;
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private Database db;
    private ProxyraManagedConnectionFactory mcf;

    @BeforeEach
    void setUp(Database db) throws SQLException {
        this.db = db;
        mcf = Factories.on(db).maxPoolSize(1).build();
        db.execute("delete from notes where body like 'in-flight %'");
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    @Test
    void aBeginQueuedBehindARunningStatementNeverReachesTheNextBorrower() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        for (int run = 1; run <= 5; run++) {
            aliceClosesWithTwoCallsRunningThenBobWorks(ds, "in-flight non-managed " + run);
        }
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void theSameUnderAServerThatCleansUpOnClose() throws Exception {
        ServerLikeConnectionManager server = new ServerLikeConnectionManager();
        ProxyraDataSource ds = new ProxyraDataSource(mcf, server);
        for (int run = 1; run <= 5; run++) {
            aliceClosesWithTwoCallsRunningThenBobWorks(ds, "in-flight server " + run);
        }
        // alice's calls failed after her connection was cleaned up: not the error of the connection bob got next
        assertThat(server.errorEvents()).as("CONNECTION_ERROR_OCCURRED events").isZero();
        assertThat(server.live()).isZero();
        assertThat(mcf.pool().lentOut()).isZero();
    }

    private void aliceClosesWithTwoCallsRunningThenBobWorks(ProxyraDataSource ds, String marker) throws Exception {
        try (Connection lockHolder = db.superuser()) {
            lockHolder.setAutoCommit(false);
            lock(lockHolder);
            TestCallers.set("alice");
            Connection alice = ds.getConnection();
            int pid = backendPid(alice);
            Statement a = alice.createStatement();
            Statement b = alice.createStatement();
            Running waiting = Running.start("A", () -> a.execute("select pg_advisory_xact_lock(" + LOCK + ")"));
            awaitLockWait(pid);
            Running queued = Running.start("B", () -> b.execute("BEGIN"));
            awaitParkedInDriver(queued.thread);

            Running closing = Running.start("close", () -> {
                alice.close();
                return null;
            });
            awaitDoneOrParkedInDriver(closing);
            lockHolder.rollback(); // without the cancel, A goes on now and B's BEGIN runs after it
            closing.outcome();
            queued.outcome(); // B may have failed or run its BEGIN on the discarded session: either is fine

            TestCallers.set("bob");
            int bobPid;
            try (Connection bob = ds.getConnection(); Statement s = bob.createStatement()) {
                bobPid = backendPid(bob);
                s.executeUpdate("insert into notes(body) values ('" + marker + "')");
            }
            assertThat(db.queryInt("select count(*) from notes where body = '" + marker + "'"))
                    .as("bob's committed insert").isEqualTo(1);
            assertThat(bobPid).as("bob's backend").isNotEqualTo(pid);
            assertThat(waiting.failure()).as("thread A's statement, cut short by the close")
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"));
            assertThat(db.backendGone(pid, PATIENCE)).as("alice's session is discarded").isTrue();
        }
    }

    @Test
    void aServerCleanupWhileCallsRunDiscardsTheSessionAndTheManagedConnectionServesBob() throws Exception {
        RecordingListener events = new RecordingListener();
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        mc.addConnectionEventListener(events);
        try (Connection lockHolder = db.superuser()) {
            lockHolder.setAutoCommit(false);
            lock(lockHolder);
            Connection alice = (Connection) mc.getConnection(null, ALICE);
            int pid = backendPid(alice);
            Statement a = alice.createStatement();
            Statement b = alice.createStatement();
            Running waiting = Running.start("A", () -> a.execute("select pg_advisory_xact_lock(" + LOCK + ")"));
            awaitLockWait(pid);
            Running queued = Running.start("B", () -> b.execute("BEGIN"));
            awaitParkedInDriver(queued.thread);

            // e.g. the transaction timed out: the server cleans up with alice's handle still open
            Running cleanup = Running.start("cleanup", () -> {
                mc.cleanup();
                return null;
            });
            awaitDoneOrParkedInDriver(cleanup);
            lockHolder.rollback();
            cleanup.outcome();
            queued.outcome();
            assertThat(alice.isClosed()).isTrue();

            events.events.clear();
            Connection bob = (Connection) mc.getConnection(null, BOB); // the server reuses the managed connection
            int bobPid;
            try (Statement s = bob.createStatement()) {
                bobPid = backendPid(bob);
                s.executeUpdate("insert into notes(body) values ('in-flight cleanup')");
            }
            bob.close();
            mc.cleanup();
            assertThat(db.queryInt("select count(*) from notes where body = 'in-flight cleanup'"))
                    .as("bob's committed insert").isEqualTo(1);
            assertThat(bobPid).isNotEqualTo(pid);
            assertThat(waiting.failure()).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"));
            assertThat(events.ids()).doesNotContain(ConnectionEvent.CONNECTION_ERROR_OCCURRED);
            assertThat(db.backendGone(pid, PATIENCE)).isTrue();
        } finally {
            mc.destroy();
        }
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aResultSetFetchingOnAnotherThreadDoesNotHoldTheCloseAndFailsAfterIt() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        try (Connection lockHolder = db.superuser()) {
            lockHolder.setAutoCommit(false);
            lock(lockHolder);
            TestCallers.set("alice");
            Connection alice = ds.getConnection();
            int pid = backendPid(alice);
            alice.setAutoCommit(false); // a cursor: rows come from the session as the result set is read
            Statement s = alice.createStatement();
            s.setFetchSize(5);
            // rows past the tenth wait for the test's lock, inside the database, in the middle of the result set
            ResultSet rs = s.executeQuery("select g, case when g > 10 then pg_advisory_xact_lock_shared(" + LOCK
                    + ")::text end from generate_series(1, 100) g");
            Running reader = Running.start("C", () -> {
                int rows = 0;
                while (rs.next()) {
                    rows++;
                }
                return rows;
            });
            awaitLockWait(pid);

            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
                try {
                    alice.close();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            // while the test still holds the lock: the close neither waits for the fetch nor lets it run on
            closing.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertThat(reader.failure()).as("the reading thread, after the close").isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"));
            lockHolder.rollback();

            TestCallers.set("bob");
            try (Connection bob = ds.getConnection(); Statement b = bob.createStatement()) {
                assertThat(backendPid(bob)).isNotEqualTo(pid);
                b.executeUpdate("insert into notes(body) values ('in-flight result set')");
            }
            assertThat(db.queryInt("select count(*) from notes where body = 'in-flight result set'")).isEqualTo(1);
            assertThat(db.backendGone(pid, PATIENCE)).isTrue();
        }
        assertThat(mcf.pool().lentOut()).isZero();
    }

    /**
     * The race itself, with nothing held: a thread runs BEGIN after BEGIN on alice's handle while she closes it. Each
     * BEGIN either runs before the close saw it (the return rolls it back), is running when the close comes (the
     * session is discarded), or fails with 08003; never does one run on the session bob gets next.
     */
    @Test
    void beginsRacingTheCloseNeverReachTheNextBorrower() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        int discarded = 0;
        for (int run = 1; run <= 100; run++) {
            TestCallers.set("alice");
            Connection alice = ds.getConnection();
            int pid = backendPid(alice);
            Statement s = alice.createStatement();
            java.util.concurrent.CountDownLatch ranOnce = new java.util.concurrent.CountDownLatch(1);
            Running racer = Running.start("racer", () -> {
                while (true) {
                    s.execute("BEGIN");
                    ranOnce.countDown();
                }
            });
            assertThat(ranOnce.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            alice.close();
            assertThat(racer.failure()).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"));
            TestCallers.set("bob");
            String marker = "in-flight race " + run;
            try (Connection bob = ds.getConnection(); Statement b = bob.createStatement()) {
                discarded += backendPid(bob) == pid ? 0 : 1;
                b.executeUpdate("insert into notes(body) values ('" + marker + "')");
            }
            assertThat(db.queryInt("select count(*) from notes where body = '" + marker + "'"))
                    .as("bob's committed insert, run " + run).isEqualTo(1);
        }
        System.out.println("beginsRacingTheClose: 100 runs, alice's session discarded in " + discarded);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void aCallAfterCloseFailsAndAQuietCloseKeepsTheSession() throws Exception {
        ProxyraDataSource ds = Factories.dataSource(mcf);
        TestCallers.set("alice");
        Connection alice = ds.getConnection();
        int pid = backendPid(alice);
        Statement s = alice.createStatement();
        ResultSet rs = s.executeQuery("select 1");
        alice.close();
        for (SqlCall call : new SqlCall[] {rs::next, () -> s.execute("BEGIN"), alice::getAutoCommit, rs::getMetaData}) {
            try {
                call.run();
                throw new AssertionError("a call after close ran");
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("08003");
            }
        }
        assertThat(s.isClosed()).isTrue();
        s.close(); // closing again touches nothing and does not fail
        TestCallers.set("bob");
        try (Connection bob = ds.getConnection()) {
            assertThat(backendPid(bob)).as("a handle closed with nothing running keeps its session").isEqualTo(pid);
        }
    }

    // ---- observing, never timing ----

    private static void lock(Connection superuser) throws SQLException {
        try (Statement s = superuser.createStatement()) {
            s.execute("select pg_advisory_xact_lock(" + LOCK + ")");
        }
    }

    /** Until backend {@code pid} waits for the test's advisory lock, as the database reports it. */
    private void awaitLockWait(int pid) throws SQLException {
        String waiting = "select count(*) from pg_stat_activity where pid = " + pid
                + " and state = 'active' and wait_event_type = 'Lock' and wait_event = 'advisory'";
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (db.queryInt(waiting) == 0) {
            assertThat(System.nanoTime()).as("backend " + pid + " waiting for the lock").isLessThan(deadline);
            db.queryInt("select 1 from pg_sleep(0.01)");
        }
    }

    /** Until {@code thread} is parked inside pgjdbc (queued for the connection behind the running statement). */
    private static void awaitParkedInDriver(Thread thread) {
        awaitState(() -> parkedInDriver(thread), thread.getName() + " parked inside the driver");
    }

    /** A close or cleanup returns, or (as it did before proxyra counted calls in flight) queues for the driver. */
    private static void awaitDoneOrParkedInDriver(Running running) {
        awaitState(() -> running.result.isDone() || parkedInDriver(running.thread),
                running.thread.getName() + " returned or parked inside the driver");
    }

    private static boolean parkedInDriver(Thread thread) {
        Thread.State state = thread.getState();
        return (state == Thread.State.WAITING || state == Thread.State.BLOCKED)
                && Arrays.stream(thread.getStackTrace()).anyMatch(f -> f.getClassName().startsWith("org.postgresql."));
    }

    private static void awaitState(BooleanSupplier reached, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!reached.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            LockSupport.parkNanos(1_000_000);
        }
    }

    @FunctionalInterface
    private interface SqlCall {
        Object run() throws SQLException;
    }

    /** A call on a thread of its own, whose outcome the test collects. */
    private static final class Running {
        final Thread thread;
        final CompletableFuture<Object> result = new CompletableFuture<>();

        private Running(String name, java.util.concurrent.Callable<Object> call) {
            thread = new Thread(() -> {
                try {
                    result.complete(call.call());
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            }, "alice-" + name);
            thread.setDaemon(true);
        }

        static Running start(String name, java.util.concurrent.Callable<Object> call) {
            Running r = new Running(name, call);
            r.thread.start();
            return r;
        }

        /** What the call threw; fails the test if it returned instead. */
        Throwable failure() throws Exception {
            try {
                Object value = result.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                throw new AssertionError(thread.getName() + " returned " + value + " instead of failing");
            } catch (ExecutionException e) {
                return e.getCause();
            }
        }

        /** Waits for the call to end, whatever its outcome. */
        void outcome() throws Exception {
            try {
                result.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // either outcome is acceptable to the caller of this method
            }
        }
    }
}
