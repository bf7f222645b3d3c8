package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.util.Arrays;
import java.util.Locale;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.SetUserDatabaseExtension;
import dev.proxyra.testing.TestCallers;

/**
 * What a switch costs in each mode, on one physical connection, same server, same run: getConnection + close with
 * alice and bob alternating, so that every borrow is a switch (IdentityCheck=VERIFY, the default). Prints the
 * medians; asserts only that every borrow was a switch on the same session.
 */
@ExtendWith(SetUserDatabaseExtension.class)
class SwitchModeCostTest {
    private static final int SWITCHES = 2000;
    private static final int ROUNDS = 4;
    private ProxyraManagedConnectionFactory setRole;
    private ProxyraManagedConnectionFactory setUser;

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        setRole.close();
        setUser.close();
    }

    @Test
    void medianMicrosecondsPerSwitchInBothModes(Database db) throws Exception {
        setRole = Factories.on(db).maxPoolSize(1).roleSwitch("SET_ROLE").build();
        setRole.setPoolName("cost-set-role");
        setUser = Factories.on(db).maxPoolSize(1).roleSwitch("SET_USER").build();
        setUser.setPoolName("cost-set-user");
        ProxyraDataSource roleDs = Factories.dataSource(setRole);
        ProxyraDataSource userDs = Factories.dataSource(setUser);
        switches(roleDs, new long[SWITCHES / ROUNDS]); // warm up both, JIT and server
        switches(userDs, new long[SWITCHES / ROUNDS]);
        long[] role = new long[SWITCHES];
        long[] user = new long[SWITCHES];
        int per = SWITCHES / ROUNDS;
        for (int round = 0; round < ROUNDS; round++) { // interleaved, so that the machine's noise hits both alike
            long[] r = new long[per];
            long[] u = new long[per];
            switches(roleDs, r);
            switches(userDs, u);
            System.arraycopy(r, 0, role, round * per, per);
            System.arraycopy(u, 0, user, round * per, per);
        }
        double roleMedian = median(role);
        double userMedian = median(user);
        System.out.printf(Locale.ROOT, "switch cost over %d switches on one connection: SET_ROLE median %.1f µs,"
                + " SET_USER median %.1f µs (%+.1f µs, x%.2f)%n", SWITCHES, roleMedian, userMedian,
                userMedian - roleMedian, userMedian / roleMedian);
        long expected = SWITCHES + SWITCHES / ROUNDS - 1; // every borrow after each pool's first
        assertThat(setRole.pool().metrics().borrows(PoolMetrics.Outcome.SWITCHED)).isEqualTo(expected);
        assertThat(setUser.pool().metrics().borrows(PoolMetrics.Outcome.SWITCHED)).isEqualTo(expected);
        assertThat(setRole.pool().discardedCount() + setUser.pool().discardedCount()).isZero();
    }

    private static void switches(ProxyraDataSource ds, long[] nanos) throws Exception {
        for (int i = 0; i < nanos.length; i++) {
            TestCallers.set(i % 2 == 0 ? "bob" : "alice");
            long start = System.nanoTime();
            try (Connection c = ds.getConnection()) {
                nanos[i] = System.nanoTime() - start;
            }
        }
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1000.0;
    }
}
