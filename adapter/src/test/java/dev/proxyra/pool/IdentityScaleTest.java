package dev.proxyra.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.proxyra.config.ExternalConfig;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.TestCallers;
import dev.proxyra.testing.fakepg.FakePgDataSource;

/**
 * 100,000 distinct callers through one pool: what the adapter keeps per identity it has seen stays bounded, and a
 * borrow does not get dearer as more identities have been seen. The requests go through proxyra's DataSource, the real
 * UCP and the in-memory PostgreSQL ({@link FakePgDataSource}, not recording, so that the heap figures are the adapter's
 * and UCP's); half of them walk every caller once in a random order (100,000 first visits), the other half are drawn
 * from a Zipf distribution over the same callers (a hot set, as real traffic has). The bounds are asserted; heap and
 * borrow times are printed per window, never asserted (a benchmark's figures, not a test's).
 * <p>
 * Where the fake differs from PostgreSQL: a switch costs no database time and every role exists, so the figures are the
 * adapter's own cost; the database's side (role cache, plan cache per role) is not measured here.
 */
class IdentityScaleTest {
    private static final int CALLERS = 100_000;
    private static final int WINDOW = 20_000;
    private static final String URL = "jdbc:postgresql://fake.invalid:5432/identity-scale";

    private ProxyraManagedConnectionFactory mcf;

    @BeforeEach
    void open() {
        mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.NONE);
        mcf.setURL(URL);
        mcf.setUser("app_proxy");
        mcf.setPassword("not-a-secret");
        mcf.setConnectionFactoryClassName(FakePgDataSource.class.getName());
        mcf.setCallerSource(TestCallers.class.getName());
        mcf.setMaxPoolSize(8);
        mcf.setConnectionWaitTimeout(5);
    }

    @AfterEach
    void close() {
        TestCallers.set(null);
        mcf.close();
    }

    @Test
    void memoryStaysBoundedAndBorrowsDoNotSlowDownOver100000DistinctCallers() throws Exception {
        ProxyraDataSource ds = (ProxyraDataSource) mcf.createConnectionFactory();
        int[] walk = shuffled(CALLERS, new Random(7));
        Zipf zipf = new Zipf(CALLERS, 1.0, new Random(11));
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        List<String> rows = new ArrayList<>();
        long[] windowNanos = new long[WINDOW];
        long baseline = usedHeapAfterGc(memory);
        int requests = 2 * CALLERS;
        for (int i = 0; i < requests; i++) {
            String caller = "caller" + (i % 2 == 0 ? walk[i / 2] : zipf.next());
            TestCallers.set(caller);
            long start = System.nanoTime();
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select current_user")) {
                rs.next();
                windowNanos[i % WINDOW] = System.nanoTime() - start;
                if (!caller.equals(rs.getString(1))) {
                    throw new AssertionError("request " + i + " as " + caller + " ran as " + rs.getString(1));
                }
            }
            if ((i + 1) % WINDOW == 0) {
                long[] sorted = windowNanos.clone();
                Arrays.sort(sorted);
                rows.add(String.format("%,9d requests %,8d distinct callers seen  median %6.1f µs  p99 %7.1f µs"
                                + "  heap +%,6d KiB  label sets %,6d", i + 1, Math.min(CALLERS, (i + 2) / 2),
                        sorted[WINDOW / 2] / 1000.0, sorted[WINDOW * 99 / 100] / 1000.0,
                        (usedHeapAfterGc(memory) - baseline) / 1024, mcf.pool().labels().remembered()));
            }
            assertThat(mcf.pool().labels().remembered()).isLessThanOrEqualTo(IdentityLabels.MAX_REMEMBERED);
        }
        System.out.println("[identity-scale] " + CALLERS + " distinct callers, " + requests
                + " requests (half a walk over every caller, half Zipf s=1.0), MaxPoolSize 8, one thread:");
        rows.forEach(r -> System.out.println("[identity-scale] " + r));

        IdentityPool pool = mcf.pool();
        assertThat(pool.lentOut()).isZero();
        PoolMetrics m = pool.metrics();
        assertThat(m.borrows(PoolMetrics.Outcome.WARM) + m.borrows(PoolMetrics.Outcome.SWITCHED)
                + m.borrows(PoolMetrics.Outcome.NEW_PHYSICAL)).isEqualTo(requests);
        assertThat(m.borrows(PoolMetrics.Outcome.NEW_PHYSICAL)).as("physical connections opened").isLessThanOrEqualTo(8);
        assertThat(m.borrows(PoolMetrics.Outcome.WARM)).as("the hot callers found their sessions warm").isPositive();
        assertThat(pool.metrics().distinctIdentities()).as("counted exactly up to its cap, then \"at least\"")
                .isEqualTo(PoolMetrics.MAX_DISTINCT_IDENTITIES);
        assertThat(pool.metrics().summary()).contains("distinct identities=" + PoolMetrics.MAX_DISTINCT_IDENTITIES + "+");
        assertThat(pool.labels().remembered()).isBetween(1, IdentityLabels.MAX_REMEMBERED);
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        // System.gc() is a request: two in a row, and the figure is printed only, never asserted
        System.gc();
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static int[] shuffled(int n, Random random) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i + 1;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** Ranks 1..n with probability proportional to 1/rank^s, by inverse transform over the cumulative weights. */
    private static final class Zipf {
        private final double[] cumulative;
        private final Random random;

        Zipf(int n, double s, Random random) {
            this.random = random;
            cumulative = new double[n];
            double sum = 0;
            for (int k = 1; k <= n; k++) {
                sum += 1 / Math.pow(k, s);
                cumulative[k - 1] = sum;
            }
            for (int k = 0; k < n; k++) {
                cumulative[k] /= sum;
            }
        }

        int next() {
            int i = Arrays.binarySearch(cumulative, random.nextDouble());
            return (i >= 0 ? i : -i - 1) + 1;
        }
    }
}
