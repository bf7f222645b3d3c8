package dev.proxyra.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.PostgresExtension;

/**
 * What the switch's role settings and application_name cost the database: CPU time of the one backend (Linux /proc,
 * utime + stime) per switch between two callers, for the switch as it was before them (check, SET ROLE, reset), the
 * settings' statement alone where a role has none (what a role not yet known to have none costs once a minute), the
 * switch now (to roles known to have none; with ClientIdentifier off and on), the switch now to roles with three
 * settings each, and the warm identity check without and with application_name; interleaved blocks, same session,
 * same run. Figures are
 * printed, not asserted (the machine is shared); what is asserted is that every switch ran as its role.
 */
@ExtendWith(PostgresExtension.class)
class CallerSettingsCostTest {
    private static final int PER_BLOCK = 400;
    private static final int BLOCKS = 5;
    private static final String BEFORE = "select current_user, session_user; SET ROLE %s; CLOSE ALL; RESET ALL;"
            + " UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;"
            + " SELECT pg_catalog.count(*), pg_catalog.pg_my_temp_schema() <> 0"
            + " FROM pg_catalog.pg_prepared_statements WHERE from_sql";

    private interface Step {
        void run(Connection c, int i) throws SQLException;
    }

    @Test
    void databaseCpuPerSwitchIsPrinted(Database db) throws Exception {
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cost_set1') THEN"
                + " CREATE ROLE cost_set1 NOLOGIN IN ROLE callers; CREATE ROLE cost_set2 NOLOGIN IN ROLE callers;"
                + " GRANT cost_set1, cost_set2 TO app_proxy; END IF; END $$;"
                + " ALTER ROLE cost_set1 SET work_mem = '8MB'; ALTER ROLE cost_set1 SET statement_timeout = '30s';"
                + " ALTER ROLE cost_set1 SET search_path = public; ALTER ROLE cost_set2 SET work_mem = '9MB';"
                + " ALTER ROLE cost_set2 SET statement_timeout = '31s'; ALTER ROLE cost_set2 SET search_path = public");
        PostgresRole tagging = new PostgresRole(ProxyraConfig.RoleSwitch.SET_ROLE, true);
        PostgresRole plain = new PostgresRole(ProxyraConfig.RoleSwitch.SET_ROLE, false);
        List<String> plainRoles = List.of("caller001", "caller002");
        List<String> withSettings = List.of("cost_set1", "cost_set2");
        try (Connection c = db.connectAs(Database.PROXY_USER, Database.PROXY_PASSWORD)) {
            int pid;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            c.createStatement().execute("SET ROLE caller002");
            Step before = (conn, i) -> {
                try (Statement s = conn.createStatement()) {
                    s.execute(String.format(BEFORE, plainRoles.get(i % 2)));
                }
            };
            Step rawNow = (conn, i) -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("select current_user, session_user; SET ROLE " + plainRoles.get(i % 2) + "; RESET ALL; "
                            + PostgresCallerSettings.apply("current_user", null, null) + "; "
                            + PostgresRole.RESET_SESSION_STATE);
                }
            };
            Step[] ways = {
                    before, rawNow,
                    switches(plain, plainRoles),
                    switches(tagging, plainRoles),
                    switches(tagging, withSettings),
                    (conn, i) -> {
                        if (!plain.verify(conn, identity(withSettings.get(1)))) {
                            throw new AssertionError("the warm check failed");
                        }
                    },
                    (conn, i) -> {
                        if (!tagging.verify(conn, identity(withSettings.get(1)))) {
                            throw new AssertionError("the warm check failed");
                        }
                    }};
            String[] names = {"switch before (check, SET ROLE, reset)", "the settings' statement asked for a role with none","switch now, ClientIdentifier=false, no role settings",
                    "switch now, ClientIdentifier=true, no role settings", "switch now, ClientIdentifier=true, 3 role settings",
                    "warm identity check as before (ClientIdentifier=false)", "warm identity check, ClientIdentifier=true"};
            long[] cpu = new long[ways.length];
            long[] wall = new long[ways.length];
            for (int block = -1; block < BLOCKS; block++) { // the first block warms up and is not counted
                for (int w = 0; w < ways.length; w++) {
                    if (w == ways.length - 2) {
                        tagging.changeIdentity(c, identity(withSettings.get(0)), identity(withSettings.get(1)), true);
                    }
                    long cpuStart = backendCpuNanos(pid);
                    long start = System.nanoTime();
                    for (int i = 0; i < PER_BLOCK; i++) {
                        ways[w].run(c, i);
                    }
                    if (block >= 0) {
                        wall[w] += System.nanoTime() - start;
                        cpu[w] += backendCpuNanos(pid) - cpuStart;
                    }
                }
            }
            int n = PER_BLOCK * BLOCKS;
            for (int w = 0; w < ways.length; w++) {
                System.out.printf(Locale.ROOT, "caller settings cost: %-55s database CPU %6.1f µs, wall %6.1f µs per"
                        + " borrow (%d, x%.2f of before)%n", names[w], cpu[w] / 1000.0 / n, wall[w] / 1000.0 / n, n,
                        (double) cpu[w] / cpu[0]);
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "select current_user, current_setting('work_mem'), current_setting('application_name')")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("cost_set2");
                assertThat(rs.getString(2)).isEqualTo("9MB");
                assertThat(rs.getString(3)).isEqualTo("cost_set2");
            }
        } finally {
            db.execute("ALTER ROLE cost_set1 RESET ALL; ALTER ROLE cost_set2 RESET ALL");
        }
    }

    private static Step switches(PostgresRole dialect, List<String> roles) {
        return (c, i) -> {
            DbIdentity previous = identity(roles.get((i + 1) % 2));
            if (!dialect.changeIdentity(c, previous, identity(roles.get(i % 2)), true)) {
                // the first switch of a block may come from another way's role: the check then says so
                if (i > 0) {
                    throw new AssertionError("switch " + i + " did not run as " + previous.databaseUser());
                }
            }
        };
    }

    private static DbIdentity identity(String role) {
        return new DbIdentity(role, role, null, List.of());
    }

    /** utime + stime of the backend, from /proc (clock ticks of 10 ms). */
    private static long backendCpuNanos(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
    }
}
