package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.ServerLikeConnectionManager;
import dev.proxyra.testing.TestCallers;

/**
 * Killed sessions during load: a killer terminates random pooled backends (pg_terminate_backend), busy
 * and idle ones, while clients run through a connection manager that behaves like a server. Only a
 * request whose own session was killed may fail; each such failure comes with a connection error event
 * for its managed connection; killed idle sessions are replaced unnoticed; the pool heals.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class KilledSessionsTest {
    private static final int WORKERS = 8;
    private static final int REQUESTS = 6_000;
    private static final int KILLS = 40;
    private static final int IDENTITIES = 40;

    @Test
    void onlyRequestsOnAKilledSessionFailEachWithAnErrorEventAndThePoolHeals(Database db) throws Exception {
        ProxyraManagedConnectionFactory mcf = Factories.onUrl(db.url()).maxPoolSize(WORKERS).waitTimeout(10).build();
        ServerLikeConnectionManager server = new ServerLikeConnectionManager();
        ProxyraDataSource ds = (ProxyraDataSource) mcf.createConnectionFactory(server);
        IdentityPool pool = mcf.pool();

        Set<Integer> killed = ConcurrentHashMap.newKeySet();
        Tally errors = new Tally();
        List<String> wrong = new CopyOnWriteArrayList<>();
        List<String> notOnAKilledSession = new CopyOnWriteArrayList<>();
        List<String> withoutErrorEvent = new CopyOnWriteArrayList<>();
        List<String> notFatal = new CopyOnWriteArrayList<>();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failedBorrows = new AtomicInteger();
        AtomicInteger killsOfBusy = new AtomicInteger();
        Semaphore progress = new Semaphore(0); // one permit per finished request: paces the killer without sleeping
        ExecutorService threads = Executors.newFixedThreadPool(WORKERS + 1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                futures.add(threads.submit(() -> {
                    try {
                        int i;
                        while ((i = next.getAndIncrement()) < REQUESTS) {
                            String caller = Scenario.caller((i * 7) % IDENTITIES);
                            TestCallers.set(caller);
                            Connection c;
                            try {
                                c = ds.getConnection();
                            } catch (SQLException e) {
                                // the session died between validation and SET ROLE: the borrow itself fails
                                failedBorrows.incrementAndGet();
                                errors.add(e);
                                check(e, server.lastFailedAllocation(), notFatal, withoutErrorEvent);
                                progress.release();
                                continue;
                            }
                            // the backend pid, read on the client side: no round trip that could fail
                            int pid = c.unwrap(PGConnection.class).getBackendPID();
                            try (c; Statement s = c.createStatement()) {
                                String mismatch = Scenario.wrongIdentity(c, caller);
                                if (mismatch != null) {
                                    wrong.add(mismatch);
                                }
                                try (ResultSet rs = s.executeQuery("select pg_sleep(0.002), count(*) from notes")) {
                                    rs.next();
                                }
                                ok.incrementAndGet();
                            } catch (SQLException e) {
                                errors.add(e);
                                if (!killed.contains(pid)) {
                                    notOnAKilledSession.add("pid " + pid + ": " + e);
                                }
                                check(e, server.trackedFor(c), notFatal, withoutErrorEvent);
                            }
                            progress.release();
                        }
                    } finally {
                        TestCallers.set(null);
                    }
                    return null;
                }));
            }
            Future<?> killer = threads.submit(() -> {
                SplittableRandom random = new SplittableRandom(42);
                try (Connection su = db.superuser(); Statement s = su.createStatement()) {
                    for (int k = 0; k < KILLS; k++) {
                        if (!progress.tryAcquire(REQUESTS / (KILLS + 10), 60, TimeUnit.SECONDS)) {
                            break; // the clients are done
                        }
                        // alternately a busy session (a request in flight) and any pooled one
                        boolean busy = k % 2 == 0;
                        try (ResultSet rs = s.executeQuery("select pid from pg_stat_activity where usename = '"
                                + Database.PROXY_USER + "'" + (busy ? " and state = 'active'" : "")
                                + " order by pid")) {
                            List<Integer> pids = new ArrayList<>();
                            while (rs.next()) {
                                pids.add(rs.getInt(1));
                            }
                            if (pids.isEmpty()) {
                                continue;
                            }
                            int pid = pids.get(random.nextInt(pids.size()));
                            killed.add(pid); // before the kill: a failing client must find it here
                            try (ResultSet t = su.createStatement().executeQuery("select pg_terminate_backend(" + pid + ")")) {
                                t.next();
                            }
                            if (busy) {
                                killsOfBusy.incrementAndGet();
                            }
                        }
                    }
                }
                return null;
            });
            for (Future<?> f : futures) {
                f.get(3, TimeUnit.MINUTES);
            }
            killer.get(1, TimeUnit.MINUTES);
        } finally {
            threads.shutdownNow();
        }

        // healed: every identity is served again, nothing is lent out
        int afterwards = 0;
        for (int i = 0; i < IDENTITIES; i++) {
            String caller = Scenario.caller(i);
            TestCallers.set(caller);
            try (Connection c = ds.getConnection()) {
                assertThat(Scenario.wrongIdentity(c, caller)).isNull();
                afterwards++;
            }
        }
        TestCallers.set(null);
        long failures = errors.total();
        Scenario.figures("killed-sessions", "requests=" + REQUESTS + " ok=" + ok.get() + " errors=" + errors
                + " failedBorrows=" + failedBorrows.get() + " wrong=" + wrong.size() + " kills=" + killed.size()
                + " (busy " + killsOfBusy.get() + ") errorEvents=" + server.errorEvents()
                + " recovery=immediate (next " + afterwards + " requests ok) discarded=" + pool.discardedCount()
                + " physicalAtEnd=" + pool.totalCount() + " lentOut=" + pool.lentOut()
                + " liveManagedConnections=" + server.live());
        try {
            assertThat(wrong).as("wrong identities").isEmpty();
            assertThat(killed).as("sessions killed").hasSizeGreaterThan(KILLS / 2);
            assertThat(notOnAKilledSession).as("failed requests whose session was not killed").isEmpty();
            assertThat(notFatal).as("failures not reported as a dead connection").isEmpty();
            assertThat(withoutErrorEvent).as("failures without a connection error event").isEmpty();
            assertThat(failures).as("failed requests (each needs its own killed session)").isLessThanOrEqualTo(killed.size());
            assertThat(ok.get() + failures).isEqualTo(REQUESTS);
            assertThat(server.errorEvents()).as("error events").isGreaterThanOrEqualTo((int) failures);
            assertThat(pool.lentOut()).as("leaked borrows").isZero();
            assertThat(server.live()).as("managed connections neither closed nor destroyed").isZero();
            assertThat(server.destroyFailures()).isZero();
            assertThat(pool.totalCount()).isLessThanOrEqualTo(WORKERS);
        } finally {
            mcf.close();
        }
    }

    private static void check(SQLException e, ServerLikeConnectionManager.Tracked tracked, List<String> notFatal,
                              List<String> withoutErrorEvent) {
        String state = String.valueOf(e.getSQLState());
        if (!(state.startsWith("08") || state.startsWith("57P0"))) {
            notFatal.add(state + ": " + e);
        }
        if (tracked == null || tracked.errors.isEmpty()) {
            withoutErrorEvent.add(state + ": " + e);
        }
    }
}
