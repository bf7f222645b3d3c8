package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.pool.IdentityPool;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.TestCallers;

/**
 * Pool exhaustion: MaxPoolSize=2 and 20 concurrent long requests. The two that get a connection hold it
 * until every other has given up; those wait ConnectionWaitTimeout and fail with an error that says
 * the pool is exhausted. Nothing deadlocks, and every connection comes back.
 */
@ExtendWith(RestartableDatabaseExtension.class)
class PoolExhaustionTest {
    private static final int MAX_POOL_SIZE = 2;
    private static final int REQUESTS = 20;
    private static final int WAIT_SECONDS = 2;

    @Test
    void waitersFailWithPoolExhaustedAfterTheWaitAndEveryConnectionReturns(Database db) throws Exception {
        ProxyraManagedConnectionFactory mcf = Factories.onUrl(db.url())
                .maxPoolSize(MAX_POOL_SIZE)
                .waitTimeout(WAIT_SECONDS)
                .build();
        ProxyraDataSource ds = Factories.dataSource(mcf);
        IdentityPool pool = mcf.pool();

        Tally errors = new Tally();
        List<String> badRefusals = new CopyOnWriteArrayList<>();
        List<String> wrong = new CopyOnWriteArrayList<>();
        AtomicInteger holders = new AtomicInteger();
        AtomicLong shortestRefusal = new AtomicLong(Long.MAX_VALUE);
        AtomicLong longestRefusal = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch decided = new CountDownLatch(REQUESTS); // each request either holds a connection or failed
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(REQUESTS);
        int lentWhileHeld;
        long began;
        long allDecided;
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                String caller = Scenario.caller(r);
                futures.add(threads.submit(() -> {
                    TestCallers.set(caller);
                    start.await();
                    long t0 = System.nanoTime();
                    try (Connection c = ds.getConnection()) {
                        holders.incrementAndGet();
                        String mismatch = Scenario.wrongIdentity(c, caller);
                        if (mismatch != null) {
                            wrong.add(mismatch);
                        }
                        decided.countDown();
                        // a long request: it keeps its connection until every other request has given up
                        if (!release.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("never released");
                        }
                        assertThat(Scenario.wrongIdentity(c, caller)).isNull();
                    } catch (SQLException e) {
                        long took = System.nanoTime() - t0;
                        shortestRefusal.accumulateAndGet(took, Math::min);
                        longestRefusal.accumulateAndGet(took, Math::max);
                        errors.add(e);
                        if (!(e instanceof SQLTransientConnectionException) || !"08001".equals(e.getSQLState())
                                || !e.getMessage().contains("pool exhausted")
                                || !e.getMessage().contains("MaxPoolSize")) {
                            badRefusals.add(e.getClass().getSimpleName() + " " + e.getSQLState() + ": " + e.getMessage());
                        }
                        decided.countDown();
                    } finally {
                        TestCallers.set(null);
                    }
                    return null;
                }));
            }
            began = System.nanoTime();
            start.countDown();
            assertThat(decided.await(60, TimeUnit.SECONDS)).as("every request got a connection or gave up: no deadlock")
                    .isTrue();
            allDecided = System.nanoTime() - began;
            lentWhileHeld = pool.lentOut();
            release.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            release.countDown();
            threads.shutdownNow();
        }

        Scenario.figures("pool-exhaustion", "requests=" + REQUESTS + " held=" + holders.get() + " errors=" + errors
                + " wrong=" + wrong.size() + " refusedAfter=" + Scenario.seconds(shortestRefusal.get()) + ".."
                + Scenario.seconds(longestRefusal.get()) + " (ConnectionWaitTimeout=" + WAIT_SECONDS + "s)"
                + " allDecidedIn=" + Scenario.seconds(allDecided) + " lentWhileHeld=" + lentWhileHeld
                + " recovery=immediate physicalAtEnd=" + pool.totalCount() + " lentOut=" + pool.lentOut());
        try {
            assertThat(wrong).isEmpty();
            assertThat(holders.get()).as("requests that got one of the two connections").isEqualTo(MAX_POOL_SIZE);
            assertThat(errors.total()).isEqualTo(REQUESTS - MAX_POOL_SIZE);
            assertThat(badRefusals).as("refusals that do not say the pool is exhausted").isEmpty();
            // a waiter gives up no earlier than the configured wait (UCP's wait is a lower bound, not a timing claim)
            assertThat(shortestRefusal.get()).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(WAIT_SECONDS) - 100_000_000L);
            assertThat(lentWhileHeld).isEqualTo(MAX_POOL_SIZE);
            assertThat(pool.lentOut()).as("leaked borrows").isZero();
            assertThat(pool.borrowedCount()).isZero();
            assertThat(pool.totalCount()).isLessThanOrEqualTo(MAX_POOL_SIZE);
            // every connection returned: the pool serves a full round of callers again
            for (int r = 0; r < REQUESTS; r++) {
                String caller = Scenario.caller(r);
                TestCallers.set(caller);
                try (Connection c = ds.getConnection()) {
                    assertThat(Scenario.wrongIdentity(c, caller)).isNull();
                }
            }
        } finally {
            TestCallers.set(null);
            mcf.close();
        }
    }
}
