package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
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
import java.util.function.Predicate;

import javax.sql.DataSource;

import dev.proxyra.testing.TestCallers;

/**
 * Clients that keep sending requests (borrow, ask the database who they run as, close) through a
 * fault, and record how each ended. A fault scenario marks when the fault began and ended; the
 * clients then report, with latches rather than timing, when every one of them has seen a failure and
 * when every one has succeeded again.
 */
final class Clients implements AutoCloseable {
    private static final int MAX_REQUESTS_PER_CLIENT = 500_000; // a bound on the loop, never reached

    final Tally errors = new Tally();
    final List<String> wrong = new CopyOnWriteArrayList<>();
    /** Failures that do not match the scenario's idea of a clear error. */
    final List<String> unclear = new CopyOnWriteArrayList<>();
    /** Failures of requests that began after the fault ended. */
    final List<String> failedAfterFault = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger ok = new AtomicInteger();
    final AtomicLong slowestFailure = new AtomicLong();
    private final AtomicLong lastRecovery = new AtomicLong();

    private final DataSource ds;
    private final int clients;
    private final int failuresPerClient;
    private final int identities;
    private final Predicate<SQLException> clear;
    private final ExecutorService threads;
    private final List<Future<?>> futures = new ArrayList<>();
    private final CountDownLatch warm;
    private final CountDownLatch everyClientFailed;
    private final CountDownLatch everyClientRecovered;
    private volatile boolean stopping;
    private volatile long faultBegan = Long.MAX_VALUE;
    private volatile long faultEnded = Long.MAX_VALUE;

    /**
     * @param failuresPerClient how many failed requests each client must see during the fault before
     *                          {@link #awaitEveryClientFailed} returns true
     */
    Clients(DataSource ds, int clients, int identities, int warmUpRequests, int failuresPerClient,
            Predicate<SQLException> clear) {
        this.ds = ds;
        this.failuresPerClient = failuresPerClient;
        this.clients = clients;
        this.identities = identities;
        this.clear = clear;
        this.threads = Executors.newFixedThreadPool(clients);
        this.warm = new CountDownLatch(warmUpRequests);
        this.everyClientFailed = new CountDownLatch(clients);
        this.everyClientRecovered = new CountDownLatch(clients);
    }

    void start() {
        for (int w = 0; w < clients; w++) {
            int client = w;
            futures.add(threads.submit(() -> {
                run(client);
                return null;
            }));
        }
    }

    private void run(int client) {
        int failuresInFault = 0;
        boolean recovered = false;
        try {
            for (int i = 0; i < MAX_REQUESTS_PER_CLIENT && !stopping; i++) {
                String caller = Scenario.caller((client * 31 + i * 7) % identities);
                TestCallers.set(caller);
                requests.incrementAndGet();
                long began = System.nanoTime();
                try (Connection c = ds.getConnection()) {
                    String mismatch = Scenario.wrongIdentity(c, caller);
                    if (mismatch != null) {
                        wrong.add(mismatch);
                        continue;
                    }
                    ok.incrementAndGet();
                    warm.countDown();
                    long now = System.nanoTime();
                    if (!recovered && now >= faultEnded) {
                        // the first success after the fault ended, whether or not the request began before
                        recovered = true;
                        lastRecovery.accumulateAndGet(now - faultEnded, Math::max);
                        everyClientRecovered.countDown();
                    }
                } catch (SQLException e) {
                    long took = System.nanoTime() - began;
                    slowestFailure.accumulateAndGet(took, Math::max);
                    String kind = errors.add(e, took);
                    if (!clear.test(e)) {
                        unclear.add(kind + ": " + e);
                    }
                    if (began >= faultEnded) {
                        failedAfterFault.add(kind + ": " + e.getMessage());
                    }
                    if (began >= faultBegan && ++failuresInFault == failuresPerClient) {
                        everyClientFailed.countDown();
                    }
                }
            }
        } finally {
            TestCallers.set(null);
        }
    }

    boolean awaitWarm(long seconds) throws InterruptedException {
        return warm.await(seconds, TimeUnit.SECONDS);
    }

    /** Marks the start of the fault: requests that begin from now on count as during the fault. */
    void faultBegins() {
        faultBegan = System.nanoTime();
    }

    /** Whether every client saw the given number of requests that began during the fault fail. */
    boolean awaitEveryClientFailed(long seconds) throws InterruptedException {
        return everyClientFailed.await(seconds, TimeUnit.SECONDS);
    }

    /** Marks the end of the fault; returns how long it lasted. */
    long faultEnds() {
        faultEnded = System.nanoTime();
        return faultEnded - faultBegan;
    }

    /** Whether every client had a request succeed after the fault ended. */
    boolean awaitEveryClientRecovered(long seconds) throws InterruptedException {
        return everyClientRecovered.await(seconds, TimeUnit.SECONDS);
    }

    /** From the end of the fault until every client had succeeded again. */
    long recovery() {
        return lastRecovery.get();
    }

    /** What a fault scenario does to the database or the network. */
    interface FaultStep {
        void run() throws Exception;
    }

    /**
     * The fault window of every fault scenario: the clients start and warm up, {@code begin} starts the fault,
     * and once every client saw its requests fail {@code end} ends it (also when that wait fails); then every
     * client must succeed again, and the clients stop. Returns how long the fault lasted, in nanoseconds.
     */
    long throughFault(FaultStep begin, FaultStep end) throws Exception {
        start();
        assertThat(awaitWarm(60)).as("warm-up requests done").isTrue();
        faultBegins();
        begin.run();
        long fault;
        try {
            assertThat(awaitEveryClientFailed(60)).as("every client saw its requests fail during the fault").isTrue();
        } finally {
            end.run();
            fault = faultEnds();
        }
        assertThat(awaitEveryClientRecovered(60)).as("every client succeeded again after the fault, with no redeploy")
                .isTrue();
        stop(120);
        return fault;
    }

    /** Stops the clients and waits for each to finish its current request (bounded). */
    void stop(long seconds) throws Exception {
        stopping = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Future<?> f : futures) {
            f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void close() {
        stopping = true;
        threads.shutdownNow();
    }
}
