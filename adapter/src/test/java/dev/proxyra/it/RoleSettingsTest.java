package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.SearchPathTrap;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * A switched role's own settings (ALTER ROLE r [IN DATABASE d] SET ...) apply as a login as r would apply them, in
 * the switch's round trip; they never reach the next caller; a setting the proxy role's session may not set refuses
 * the switch, naming the role and the setting, with the session left as it was. Roles of their own (rs_*), so that no
 * other test sees their settings; MaxPoolSize=1, so every borrow gets the same physical session.
 */
@ExtendWith(PostgresExtension.class)
class RoleSettingsTest {
    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) throws SQLException {
        this.db = db;
        db.execute("DO $$ BEGIN"
                + " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rs_alice') THEN"
                + " CREATE ROLE rs_alice NOLOGIN IN ROLE callers; CREATE ROLE rs_bob NOLOGIN IN ROLE callers;"
                + " CREATE ROLE rs_audited NOLOGIN IN ROLE callers;"
                + " GRANT rs_alice, rs_bob, rs_audited TO app_proxy;"
                + " CREATE SCHEMA rs_evil; GRANT USAGE ON SCHEMA rs_evil TO PUBLIC;"
                // what the reset after the settings would call, were it not schema-qualified
                + " CREATE FUNCTION rs_evil.pg_advisory_unlock_all() RETURNS void LANGUAGE sql AS '';"
                + " CREATE FUNCTION rs_evil.never(oid, integer) RETURNS boolean LANGUAGE sql AS 'SELECT false';"
                + " CREATE OPERATOR rs_evil.<> (LEFTARG = oid, RIGHTARG = integer, FUNCTION = rs_evil.never);"
                + " END IF; END $$");
        db.execute("ALTER ROLE rs_alice SET search_path = rs_evil, pg_catalog, public;"
                + " ALTER ROLE rs_alice SET work_mem = '3MB'; ALTER ROLE rs_alice SET statement_timeout = '42s';"
                + " ALTER ROLE rs_alice IN DATABASE postgres SET work_mem = '5MB';"
                + " ALTER ROLE rs_alice SET proxyra_test.tenant = 'alices';"
                + " ALTER ROLE rs_alice SET role = 'rs_bob';"
                + " ALTER ROLE rs_audited SET log_statement = 'all'");
        mcf = Factories.on(db).build();
        mcf.setMaxPoolSize(1);
        ds = Factories.dataSource(mcf);
    }

    @AfterEach
    void tearDown() throws SQLException {
        TestCallers.set(null);
        mcf.close();
        db.execute("ALTER ROLE rs_alice RESET ALL; ALTER ROLE rs_alice IN DATABASE postgres RESET ALL;"
                + " ALTER ROLE rs_audited RESET ALL");
    }

    private record Seen(int pid, String user, String searchPath, String workMem, String timeout, String tenant) {
    }

    private Seen as(String caller) throws Exception {
        return TestCallers.as(caller, () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "select pg_backend_pid(), current_user, current_setting('search_path'), current_setting('work_mem'),"
                            + " current_setting('statement_timeout'), current_setting('proxyra_test.tenant', true)")) {
                rs.next();
                return new Seen(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6));
            }
        });
    }

    @Test
    void theRolesSettingsApplyAsALoginWouldTheRoleInTheDatabaseBeforeTheRoleEverywhere() throws Exception {
        Seen alice = as("rs_alice");
        assertThat(alice.user()).as("a role default is no second switch").isEqualTo("rs_alice");
        assertThat(alice.searchPath()).isEqualTo("rs_evil, pg_catalog, public");
        assertThat(alice.workMem()).as("IN DATABASE wins").isEqualTo("5MB");
        assertThat(alice.timeout()).isEqualTo("42s");
        assertThat(alice.tenant()).as("a custom variable").isEqualTo("alices");

        Seen warm = as("rs_alice");
        assertThat(warm).as("a warm borrow keeps them").isEqualTo(alice);
        assertThat(mcf.pool().metrics().borrows(Outcome.WARM)).isEqualTo(1);
    }

    /** The attack: alice's role sets search_path (and a custom variable); bob, next on the same session, gets none. */
    @Test
    void noneOfThemReachTheNextCallerOnTheSameSession() throws Exception {
        Seen fresh = as("rs_bob"); // the defaults, on a new session
        Seen alice = as("rs_alice");
        Seen bob = as("rs_bob");
        assertThat(bob.pid()).isEqualTo(alice.pid()).isEqualTo(fresh.pid());
        assertThat(bob.searchPath()).isEqualTo(fresh.searchPath()).isEqualTo("\"$user\", public");
        assertThat(bob.workMem()).isEqualTo(fresh.workMem()).isEqualTo("4MB");
        assertThat(bob.timeout()).isEqualTo(fresh.timeout()).isEqualTo("0");
        // PostgreSQL keeps a custom variable defined once set, empty after RESET ALL: the value is gone (as after a
        // caller's own SET, SessionIsolationTest)
        assertThat(fresh.tenant()).isNull();
        assertThat(bob.tenant()).as("alice's value").isEmpty();
        assertThat(mcf.pool().metrics().borrows(Outcome.SWITCHED)).isEqualTo(2);
    }

    /**
     * The attack on the reset behind the settings: alice's search_path puts a schema before pg_catalog with the
     * functions and operators the reset's last statements use. They are schema-qualified: bob's advisory lock is
     * released, and a session that had a temporary schema still serves no other identity.
     */
    @Test
    void theResetAfterTheSettingsCannotBeShadowedByTheirSearchPath() throws Exception {
        int pid = TestCallers.as("rs_bob", () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("select pg_advisory_lock(424242)");
                return Sessions.backendPid(c);
            }
        });
        assertThat(as("rs_alice").pid()).isEqualTo(pid);
        assertThat(db.queryInt("select count(*)::int from pg_locks where locktype = 'advisory' and objid = 424242"))
                .as("released by pg_catalog's pg_advisory_unlock_all").isZero();

        TestCallers.as("rs_bob", () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("create temporary table rs_scratch (i int)");
                return null;
            }
        });
        long discarded = mcf.pool().discardedCount();
        assertThat(as("rs_alice").pid()).as("pg_catalog's <> saw the temporary schema").isNotEqualTo(pid);
        assertThat(mcf.pool().discardedCount()).isEqualTo(discarded + 1);
    }

    /**
     * RoleSettingsCacheSeconds: a role found without settings is not asked again for that long (the default, 60 s,
     * is the control: settings given to rs_bob meanwhile do not apply yet); with 0 they apply at the next switch.
     */
    @Test
    void settingsGivenToARoleFoundWithoutThemApplyAtTheNextSwitchWithRoleSettingsCacheSecondsZero() throws Exception {
        ProxyraManagedConnectionFactory uncached = Factories.on(db).maxPoolSize(1)
                .property("RoleSettingsCacheSeconds", "0").build();
        ProxyraDataSource fresh = Factories.dataSource(uncached);
        try {
            assertThat(workMemAs(fresh, "rs_bob")).isEqualTo("4MB");
            assertThat(workMemAs(ds, "rs_bob")).isEqualTo("4MB");
            db.execute("ALTER ROLE rs_bob SET work_mem = '7MB'");
            workMemAs(fresh, "rs_alice");
            workMemAs(ds, "rs_alice");
            assertThat(workMemAs(fresh, "rs_bob")).as("RoleSettingsCacheSeconds=0").isEqualTo("7MB");
            assertThat(workMemAs(ds, "rs_bob")).as("the default: found without settings within 60 s").isEqualTo("4MB");
        } finally {
            uncached.close();
            db.execute("ALTER ROLE rs_bob RESET ALL");
        }
    }

    private static String workMemAs(ProxyraDataSource source, String caller) throws Exception {
        return TestCallers.as(caller, () -> {
            try (Connection c = source.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select current_setting('work_mem')")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    /**
     * The attacker's general form of the test above: a caller plants, in a schema of its own first on the search_path
     * it stores for its role, every catalogue function and operator the switch and reset might call unqualified
     * (SearchPathTrap), each recording who ran it. Through switches to and from it, warm borrows and the next caller on
     * the same session, none ever runs as the proxy role or as another caller; the control shows the trap springs for
     * unqualified calls.
     */
    @Test
    void aRolesSearchPathNeverRunsItsOwnersCodeAsTheNextCallerOrTheProxyRole() throws Exception {
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rs_trapper') THEN"
                + " CREATE ROLE rs_trapper NOLOGIN IN ROLE callers; GRANT rs_trapper TO app_proxy; END IF; END $$");
        SearchPathTrap trap = SearchPathTrap.plant(db, "rs_trap", "rs_trapper");
        try {
            assertThat(trap.springsWhenCalledUnqualified("rs_bob")).as("the control: the trap works").isTrue();
            Seen bob = as("rs_bob");
            Seen trapper = as("rs_trapper");
            assertThat(trapper.searchPath()).as("its stored search_path applies").isEqualTo("rs_trap, pg_catalog, public");
            assertThat(as("rs_trapper")).as("warm").isEqualTo(trapper);
            Seen after = as("rs_bob");
            assertThat(as("rs_trapper").pid()).isEqualTo(after.pid()).isEqualTo(bob.pid());
            as("rs_bob");
            assertThat(after.searchPath()).isEqualTo(bob.searchPath());
            assertThat(trap.ranAsOthers()).as("the trapper's code run as someone else").isEmpty();
        } finally {
            trap.remove();
        }
    }

    /**
     * log_statement needs a superuser, who set it on the role: a login as the role would log every statement, a
     * session of the proxy role cannot set it. Skipping it would hide the role's statements from the log it asked
     * for: the switch is refused (28000), naming the role and the setting, and the session is exactly as it was.
     */
    @Test
    void aSettingTheProxyRoleMayNotSetRefusesTheSwitchAndLeavesTheSessionAsItWas() throws Exception {
        int pid = TestCallers.as("rs_bob", () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("select pg_advisory_lock(434343); set work_mem = '7MB'");
                return Sessions.backendPid(c);
            }
        });
        TestCallers.set("rs_audited");
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                .hasMessageContaining("rs_audited").hasMessageContaining("log_statement")
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        assertThatThrownBy(ds::getConnection).as("every time").isInstanceOf(SQLException.class)
                .hasMessageContaining("log_statement");

        Seen bob = as("rs_bob");
        assertThat(bob.pid()).as("given back, not discarded").isEqualTo(pid);
        assertThat(bob.workMem()).as("still bob's, warm").isEqualTo("7MB");
        assertThat(db.queryInt("select count(*)::int from pg_locks where locktype = 'advisory' and objid = 434343"))
                .as("nothing of the reset ran").isEqualTo(1);
        assertThat(mcf.pool().metrics().borrows(Outcome.WARM)).isEqualTo(1);
        assertThat(mcf.pool().discardedCount()).isZero();
    }

    /** A role refused for what it is keeps PostgreSQL's own refusal: the settings' explanation is not made up. */
    @Test
    void aRoleTheProxyMayNotSetIsRefusedForThatNotForItsSettings() throws Exception {
        db.execute("ALTER ROLE mallory SET log_statement = 'all'");
        try {
            TestCallers.set("mallory");
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .hasMessageNotContaining("log_statement")
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
        } finally {
            db.execute("ALTER ROLE mallory RESET ALL");
        }
    }
}
