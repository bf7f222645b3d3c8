package dev.proxyra.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.net.http.HttpTimeoutException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import jakarta.json.JsonObject;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.DemoDeployment;
import dev.proxyra.it.support.IntegrationSuite;
import dev.proxyra.it.support.ItDatabase;
import dev.proxyra.it.support.SuiteDatabaseRestart;
import dev.proxyra.it.support.PayaraSetup;

/**
 * The identity-under-load and database-restart scenarios once through Payara Micro: HTTP clients
 * against demo.war, so the server's pool, its transaction and handle management and the adapter are
 * proven together. The demo knows three users (alice and bob with database roles, carol without), so
 * identity under load runs over those three rather than 200; the adapter-level suite
 * (dev.proxyra.reliability) covers 200 identities. Pool statistics come from a test-only resource
 * added to the war ({@link PoolStatsResource}).
 */
@ExtendWith(ArquillianExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReliabilityIT {
    private static final List<String> USERS = List.of("alice", "bob", "carol");
    /** jdbc/erp's ConnectionWaitTimeout (the built-in default: the suite's pool does not set it). */
    private static final int WAIT_SECONDS = 10;

    @Deployment(testable = false)
    static WebArchive deployment() {
        return DemoDeployment.demoWar().addClasses(PoolStatsResource.class, HandleAcrossTransactionsResource.class);
    }

    @ArquillianResource
    URL deploymentUrl;

    DemoClient demo;

    @BeforeEach
    void client() {
        demo = new DemoClient(deploymentUrl);
    }

    /** What one HTTP request showed: null when it was right, else why not. */
    private static String judge(String user, Reply r) {
        if (user.equals("carol")) {
            return r.status() == 403 && "28000".equals(r.text("sqlState")) ? null : "carol was not refused: " + r;
        }
        if (r.status() != 200) {
            return null; // an error, judged separately
        }
        if (!user.equals(r.text("databaseUser")) || !user.equals(r.text("caller"))
                || !ItDatabase.PROXY_USER.equals(r.text("sessionUser"))
                || !r.rows("owner").stream().allMatch(user::equals)) {
            return user + " got " + r;
        }
        return null;
    }

    private JsonObject poolStats() throws IOException, InterruptedException {
        return demo.get("test-reliability/pool", "alice").expect(200).json();
    }

    private static void figures(String scenario, String figures) {
        System.out.println("[reliability] " + scenario + ": " + figures);
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
    }

    @Test
    @Order(1)
    void identityUnderLoadThroughPayara() throws Exception {
        demo.post("orders", "alice", "item", "alice-reliability").expect(200);
        demo.post("orders", "bob", "item", "bob-reliability").expect(200);
        int clients = 16;
        int requests = 2_400;
        AtomicInteger next = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<String> wrong = new CopyOnWriteArrayList<>();
        Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long began = System.nanoTime();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < requests) {
                        String user = USERS.get(i % USERS.size());
                        Reply r = demo.get("whoami", user);
                        String problem = judge(user, r);
                        if (problem != null) {
                            wrong.add(problem);
                        } else if (user.equals("carol")) {
                            refused.incrementAndGet();
                        } else if (r.status() == 200) {
                            ok.incrementAndGet();
                        } else {
                            errors.computeIfAbsent(r.status() + " " + r.text("sqlState"), k -> new LongAdder()).increment();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        long elapsed = System.nanoTime() - began;
        JsonObject stats = poolStats();
        ItDatabase db = IntegrationSuite.database();
        // Each backend reports itself idle as it answers its last query; the clients may see the answer
        // first, so this asynchronous state is polled with a deadline, and then asserted.
        int busy = awaitIdle(db, Duration.ofSeconds(20));
        figures("payara-identity-under-load", "requests=" + requests + " ok=" + ok.get() + " refusedAsExpected="
                + refused.get() + " errors=" + snapshot(errors) + " wrong=" + wrong.size() + " identities=3 clients="
                + clients + " switches=" + stats.getJsonNumber("identitySwitches") + " recovery=n/a physicalAtEnd="
                + stats.getJsonNumber("totalCount") + " lentOut=" + stats.getJsonNumber("lentOut")
                + " busyProxySessions=" + busy + " elapsed=" + seconds(elapsed));
        assertThat(wrong).as("answers with a wrong identity").isEmpty();
        assertThat(errors).as("errors by kind").isEmpty();
        assertThat(ok.get() + refused.get()).isEqualTo(requests);
        assertThat(stats.getJsonNumber("lentOut").intValue()).as("physical connections still lent out").isZero();
        assertThat(busy).as("app_proxy sessions not idle (active or in a transaction)").isZero();
        assertNoServerPoolLeak();
    }

    @Test
    @Order(2)
    void databaseRestartUnderLoadThroughPayara() throws Exception {
        SuiteDatabaseRestart restart = new SuiteDatabaseRestart();
        int clients = 8;
        AtomicInteger requests = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        List<String> wrong = new CopyOnWriteArrayList<>();
        List<String> unclear = new CopyOnWriteArrayList<>();
        List<String> failedAfterBack = new CopyOnWriteArrayList<>();
        AtomicInteger hung = new AtomicInteger();
        AtomicLong slowestFailure = new AtomicLong();
        AtomicLong lastRecovery = new AtomicLong();
        CountDownLatch warm = new CountDownLatch(clients * 10);
        CountDownLatch everyClientFailed = new CountDownLatch(clients);
        CountDownLatch everyClientRecovered = new CountDownLatch(clients);
        AtomicLong outageBegan = new AtomicLong(Long.MAX_VALUE);
        AtomicLong backAt = new AtomicLong(Long.MAX_VALUE);
        AtomicBoolean stopping = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    boolean failed = false;
                    boolean recovered = false;
                    for (int i = 0; i < 100_000 && !stopping.get(); i++) { // bounded; ends when told to stop
                        String user = (client + i) % 2 == 0 ? "alice" : "bob";
                        requests.incrementAndGet();
                        long t0 = System.nanoTime();
                        Reply r;
                        try {
                            r = demo.get("whoami", user);
                        } catch (HttpTimeoutException e) {
                            hung.incrementAndGet();
                            continue;
                        }
                        if (r.status() == 200) {
                            String problem = judge(user, r);
                            if (problem != null) {
                                wrong.add(problem);
                                continue;
                            }
                            ok.incrementAndGet();
                            warm.countDown();
                            long now = System.nanoTime();
                            if (!recovered && now >= backAt.get()) {
                                // the first success after the restart, whether or not the request began before
                                recovered = true;
                                lastRecovery.accumulateAndGet(now - backAt.get(), Math::max);
                                everyClientRecovered.countDown();
                            }
                            continue;
                        }
                        slowestFailure.accumulateAndGet(System.nanoTime() - t0, Math::max);
                        String state = r.status() >= 500 && r.body().startsWith("{") ? r.text("sqlState") : null;
                        String kind = r.status() + " " + state;
                        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
                        if (r.status() != 500 || state == null || !(state.startsWith("08") || state.startsWith("57P0"))) {
                            unclear.add(r.toString());
                        }
                        if (t0 >= backAt.get()) {
                            failedAfterBack.add(r.toString());
                        }
                        if (!failed && t0 >= outageBegan.get()) {
                            failed = true;
                            everyClientFailed.countDown();
                        }
                    }
                    return null;
                }));
            }
            assertThat(warm.await(60, TimeUnit.SECONDS)).as("warm-up requests done").isTrue();
            outageBegan.set(System.nanoTime());
            restart.stop();
            try {
                assertThat(everyClientFailed.await(90, TimeUnit.SECONDS))
                        .as("every client saw a request fail during the outage").isTrue();
            } finally {
                restart.start();
                backAt.set(System.nanoTime());
            }
            assertThat(everyClientRecovered.await(90, TimeUnit.SECONDS))
                    .as("every client succeeded again after the restart, with no redeploy").isTrue();
            stopping.set(true);
            for (Future<?> f : futures) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            stopping.set(true);
            pool.shutdownNow();
        }
        JsonObject stats = poolStats();
        int busy = awaitIdle(IntegrationSuite.database(), Duration.ofSeconds(20));
        figures("payara-database-restart", "requests=" + requests.get() + " ok=" + ok.get() + " errors="
                + snapshot(errors) + " wrong=" + wrong.size() + " hung=" + hung.get()
                + " outage=" + seconds(backAt.get() - outageBegan.get())
                + " slowestFailure=" + seconds(slowestFailure.get()) + " (ConnectionWaitTimeout=" + WAIT_SECONDS + "s)"
                + " recovery=" + seconds(lastRecovery.get()) + " failedAfterBack=" + failedAfterBack.size()
                + " discarded=" + stats.getJsonNumber("discardedCount") + " physicalAtEnd="
                + stats.getJsonNumber("totalCount") + " lentOut=" + stats.getJsonNumber("lentOut")
                + " busyProxySessions=" + busy);
        assertThat(wrong).as("answers with a wrong identity").isEmpty();
        assertThat(hung.get()).as("requests that hit the client's 30 s timeout").isZero();
        assertThat(unclear).as("failures that are not a clear database-unavailable error").isEmpty();
        assertThat(errors).isNotEmpty();
        assertThat(failedAfterBack).as("requests that began after the database was back and failed").isEmpty();
        assertThat(stats.getJsonNumber("lentOut").intValue()).as("physical connections still lent out").isZero();
        assertThat(busy).isZero();
        assertNoServerPoolLeak();
    }

    /**
     * JCA lets an application hold a connection handle across a transaction boundary (the server
     * re-associates it). The adapter reports and closes handles still open when a transaction ends (leak
     * reclaim); a handle taken before the transaction began is no leak of that transaction and must keep
     * working after the commit. The other common idiom (begin, take, commit, close in a finally block) is
     * reported and closed at the commit by design: only counted here.
     */
    @Test
    @Order(3)
    void aHandleTakenBeforeATransactionKeepsWorkingAfterItsCommit() throws Exception {
        long reportsAtStart = leakReports();
        Reply before = demo.get("test-reliability/handle-across-transactions/taken-before-begin", "alice");
        long reportsForTakenBefore = leakReports() - reportsAtStart;
        Reply after = demo.get("test-reliability/handle-across-transactions/closed-after-commit", "bob");
        long reportsForClosedAfter = leakReports() - reportsAtStart - reportsForTakenBefore;
        JsonObject stats = poolStats();
        figures("payara-handle-across-transactions", "requests=2 takenBeforeBegin=" + before.body()
                + " leakReports=" + reportsForTakenBefore + " closedAfterCommit=" + after.body() + " leakReports="
                + reportsForClosedAfter + " wrong=0 recovery=n/a physicalAtEnd=" + stats.getJsonNumber("totalCount")
                + " lentOut=" + stats.getJsonNumber("lentOut"));
        assertThat(before.expect(200).text("before")).isEqualTo("alice");
        assertThat(before.text("inTransaction")).isEqualTo("alice");
        assertThat(before.text("afterCommit")).as("a handle taken before begin, used after commit").isEqualTo("alice");
        assertThat(reportsForTakenBefore).as("WARNINGs reporting the handle taken before begin as a leak").isZero();
        assertThat(after.expect(200).text("inTransaction")).isEqualTo("bob");
        assertThat(stats.getJsonNumber("lentOut").intValue()).isZero();
        assertNoServerPoolLeak();
    }

    private static long leakReports() throws IOException {
        return IntegrationSuite.payara().log().split("still open when its transaction ended", -1).length - 1;
    }

    /**
     * Neither the server's pool of managed connections nor the adapter kept anything: more concurrent
     * requests than Payara's pool has slots all succeed.
     */
    private void assertNoServerPoolLeak() throws Exception {
        int burst = PayaraSetup.MAX_POOL_SIZE + 4;
        ExecutorService pool = Executors.newFixedThreadPool(burst);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                String user = i % 2 == 0 ? "alice" : "bob";
                replies.add(pool.submit(() -> demo.get("whoami", user)));
            }
            for (int i = 0; i < burst; i++) {
                Reply r = replies.get(i).get(2, TimeUnit.MINUTES);
                assertThat(judge(i % 2 == 0 ? "alice" : "bob", r.expect(200))).isNull();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(poolStats().getJsonNumber("lentOut").intValue()).isZero();
    }

    /** app_proxy sessions that are not idle, polled until none is left or the deadline passes. */
    private static int awaitIdle(ItDatabase db, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String busy = "select count(*) from pg_stat_activity where usename = '" + ItDatabase.PROXY_USER
                + "' and state <> 'idle'";
        int n;
        while ((n = db.queryInt(busy)) > 0 && System.nanoTime() < deadline) {
            db.queryInt("select 1 from pg_sleep(0.1)"); // the database waits between polls
        }
        return n;
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
        Map<String, Long> m = new TreeMap<>();
        counts.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }
}
