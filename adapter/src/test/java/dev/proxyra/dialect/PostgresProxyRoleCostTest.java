package dev.proxyra.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Database;
import dev.proxyra.testing.PostgresExtension;

/**
 * What the proxy-role checks cost on the seeded database: the check of a new session's login defaults, which rides in
 * the round trip of its first SET ROLE, against that SET ROLE alone; and the check before a pool serves anyone, once
 * per pool. Figures are printed, not asserted (the machine is shared); what is asserted is that the seeded proxy role
 * passes both.
 */
@ExtendWith(PostgresExtension.class)
class PostgresProxyRoleCostTest {
    private static final int ROUNDS = 400;

    @Test
    void theChecksPassForTheSeededProxyRoleAndTheirCostIsPrinted(Database db) throws Exception {
        try (Connection c = db.connectAs(Database.PROXY_USER, Database.PROXY_PASSWORD);
             Statement s = c.createStatement()) {
            long start = System.nanoTime();
            PostgresProxyRole.check(c);
            long startCheck = System.nanoTime() - start;

            String withCheck = PostgresProxyRole.LOGIN_DEFAULTS + "; SET ROLE alice";
            long[] alone = new long[ROUNDS];
            long[] checked = new long[ROUNDS];
            for (int i = 0; i < ROUNDS; i++) { // interleaved, so that both see the same machine
                long t = System.nanoTime();
                s.execute("SET ROLE alice");
                alone[i] = System.nanoTime() - t;
                s.execute("SET ROLE NONE"); // the check runs on a session that has not switched yet
                t = System.nanoTime();
                s.execute(withCheck);
                try (ResultSet rs = s.getResultSet()) {
                    PostgresProxyRole.requireNoLoginDefaults(rs);
                }
                checked[i] = System.nanoTime() - t;
                s.execute("SET ROLE NONE");
            }
            long login = 0;
            for (int i = 0; i < 20; i++) {
                long t = System.nanoTime();
                db.connectAs(Database.PROXY_USER, Database.PROXY_PASSWORD).close();
                login += System.nanoTime() - t;
            }
            System.out.printf("proxy-role checks: first SET ROLE of a new session p50 %d µs alone, %d µs with the"
                            + " login-defaults check (%d rounds); a login %d µs (trust, loopback); the check before a"
                            + " pool serves anyone %d µs once%n", median(alone) / 1000, median(checked) / 1000, ROUNDS,
                    login / 20 / 1000, startCheck / 1000);
            try (ResultSet rs = s.executeQuery("select current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(Database.PROXY_USER);
            }
        }
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
