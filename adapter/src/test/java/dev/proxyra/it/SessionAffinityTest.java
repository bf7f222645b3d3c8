package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * When no free session runs as the caller, the switch takes the session whose identity was wanted longest ago, so
 * the callers who ask most keep theirs warm. Both orders are tried: a pool that always took the same free session
 * (its first, say) would pass one and fail the other.
 */
@ExtendWith(PostgresExtension.class)
class SessionAffinityTest {
    private ProxyraManagedConnectionFactory mcf;

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        if (mcf != null) {
            mcf.close();
        }
    }


    @Test
    void theSessionOfTheIdentityWantedLongestAgoIsSwitched(Database db) throws Exception {
        mcf = Factories.on(db).maxPoolSize(2).build();
        ProxyraDataSource ds = Factories.dataSource(mcf);
        int first;
        int second;
        TestCallers.set("caller001");
        try (Connection a = ds.getConnection()) {
            TestCallers.set("caller002");
            try (Connection b = ds.getConnection()) {
                first = Sessions.backendPid(a);
                second = Sessions.backendPid(b);
            }
        }

        assertThat(Sessions.requestAs(ds, "caller001")).isEqualTo(first); // caller001 was wanted last: caller002's goes
        assertThat(Sessions.requestAs(ds, "caller003")).isEqualTo(second);
        assertThat(Sessions.requestAs(ds, "caller001")).as("still warm").isEqualTo(first);

        assertThat(Sessions.requestAs(ds, "caller003")).isEqualTo(second); // now caller001 was wanted longest ago: its session goes
        assertThat(Sessions.requestAs(ds, "caller004")).isEqualTo(first);
        assertThat(Sessions.requestAs(ds, "caller003")).as("still warm").isEqualTo(second);

        assertThat(mcf.pool().metrics().borrows(Outcome.WARM)).isEqualTo(4);
    }
}
