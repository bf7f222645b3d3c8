package dev.proxyra.it;

import static dev.proxyra.testing.Sessions.backendPid;
import static dev.proxyra.testing.Sessions.whoami;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.dialect.PostgresRole;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.SearchPathTrap;
import dev.proxyra.testing.LogCapture;
import dev.proxyra.testing.SetUserDatabaseExtension;
import dev.proxyra.testing.TestCallers;

/**
 * RoleSwitch=SET_USER on a real PostgreSQL 15 with the set_user extension: the switch, its refusals, its
 * prerequisites and its transactions. What a caller's SQL can and cannot undo is {@link SwitchModeEscapeTest}.
 */
@ExtendWith(SetUserDatabaseExtension.class)
class SetUserSwitchTest {
    private ProxyraManagedConnectionFactory mcf;

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        if (mcf != null) {
            mcf.close();
        }
    }

    private ProxyraDataSource setUserPool(Database db) {
        mcf = Factories.on(db).maxPoolSize(1).roleSwitch("SET_USER").build(); // every borrow gets the same session, if it survives
        return Factories.dataSource(mcf);
    }

    private static long notes(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from notes")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void eachCallerRunsAsItselfOnOneReusedSession(Database db) throws Exception {
        ProxyraDataSource ds = setUserPool(db);
        int pid = -1;
        for (String caller : new String[] {"alice", "bob", "alice", "o'brien \"x\"", "bob"}) {
            TestCallers.set(caller);
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).containsExactly(caller, "app_proxy");
                assertThat(notes(c)).isEqualTo(switch (caller) {
                    case "alice" -> 2L;
                    case "bob" -> 1L;
                    default -> 0L;
                });
                if (pid == -1) {
                    pid = backendPid(c);
                }
                assertThat(backendPid(c)).as("switched, not reconnected").isEqualTo(pid);
            }
        }
        assertThat(mcf.pool().discardedCount()).isZero();
    }

    /** The same code as SET ROLE mode: the role's settings and the caller's application_name, none left for the next. */
    @Test
    void theRolesSettingsAndTheCallersApplicationNameApplyAndNeverReachTheNextCaller(Database db)
            throws Exception {
        db.execute("ALTER ROLE alice SET work_mem = '3MB'; ALTER ROLE alice SET search_path = pg_catalog, public;"
                + " ALTER ROLE bob SET log_statement = 'all'");
        try {
            ProxyraDataSource ds = setUserPool(db);
            String[] fresh = settingsAs(ds, "alice"); // a new session: set_user's first round trip
            assertThat(fresh).containsExactly("alice", "3MB", "pg_catalog, public", "alice");
            String[] other = settingsAs(ds, "caller001");
            assertThat(other).containsExactly("caller001", "4MB", "\"$user\", public", "caller001");
            String[] again = settingsAs(ds, "alice"); // a reused session: reset, settings, set_user
            assertThat(again).containsExactly(fresh);
            TestCallers.set("bob"); // log_statement needs a superuser
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class).hasMessageContaining("log_statement")
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("28000");
            assertThat(settingsAs(ds, "alice")).as("given back as alice, warm").containsExactly(fresh);
            assertThat(mcf.pool().discardedCount()).isZero();
        } finally {
            db.execute("ALTER ROLE alice RESET ALL; ALTER ROLE bob RESET ALL");
        }
    }

    /**
     * The attack on set_user's switch and reset: a caller's stored search_path puts its own schema first, with
     * set_user, reset_user and every catalogue function and operator the switch might call unqualified
     * (SearchPathTrap). Under set_user the switch runs as the proxy role until set_user() and again after
     * reset_user(): a trap that ran would run the caller's code with the proxy role's rights. None ever runs as the
     * proxy role or another caller; the control shows the trap springs for unqualified calls.
     */
    @Test
    void aRolesSearchPathNeverRunsItsOwnersCodeAsTheProxyRoleOrAnotherCaller(Database db) throws Exception {
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'su_trapper') THEN"
                + " CREATE ROLE su_trapper NOLOGIN IN ROLE callers; GRANT su_trapper TO app_proxy; END IF; END $$");
        SearchPathTrap trap = SearchPathTrap.plant(db, "su_trap", "su_trapper");
        try {
            assertThat(trap.springsWhenCalledUnqualified("bob")).as("the control: the trap works").isTrue();
            ProxyraDataSource ds = setUserPool(db);
            String[] bob = settingsAs(ds, "bob");
            String[] trapper = settingsAs(ds, "su_trapper");
            assertThat(trapper[2]).as("its stored search_path applies").isEqualTo("su_trap, pg_catalog, public");
            assertThat(settingsAs(ds, "su_trapper")).as("warm").containsExactly(trapper);
            assertThat(settingsAs(ds, "bob")).containsExactly(bob);
            settingsAs(ds, "su_trapper");
            settingsAs(ds, "alice");
            assertThat(trap.ranAsOthers()).as("the trapper's code run as someone else").isEmpty();
        } finally {
            trap.remove();
        }
    }

    private static String[] settingsAs(ProxyraDataSource ds, String caller) throws Exception {
        return TestCallers.as(caller, () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "select current_user, current_setting('work_mem'), current_setting('search_path'),"
                            + " application_name from pg_stat_activity where pid = pg_backend_pid()")) {
                rs.next();
                return new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)};
            }
        });
    }

    @Test
    void theSwitchIsSetUsersSoTheCallerCannotSetRoleAndNoOtherSwitchBlocksIt(Database db) throws Exception {
        ProxyraDataSource ds = setUserPool(db);
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            // set_user sets current_user without the role setting, which SET ROLE would have changed
            try (ResultSet rs = s.executeQuery("select current_setting('role')")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("none");
            }
            assertThatThrownBy(() -> s.execute("SET ROLE bob")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getMessage()).contains("blocked by set_user"));
        }
        TestCallers.set("bob");
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)).containsExactly("bob", "app_proxy");
        }
    }

    @Test
    void theResetStillHoldsEveryGuaranteeOfTheSetRoleMode(Database db) throws Exception {
        ProxyraDataSource ds = setUserPool(db);
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("create temp table alice_tmp(x int); set work_mem = '7MB'; set my.secret = 'alice';"
                    + " prepare alice_stmt as select 1; listen alice_channel;"
                    + " select pg_advisory_lock(4242); declare alice_cur cursor with hold for select 1");
        }
        TestCallers.set("bob");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select (select count(*) from pg_class where relname = 'alice_tmp'"
                     + " and relpersistence = 't'), current_setting('work_mem'), current_setting('my.secret', true),"
                     + " (select count(*) from pg_prepared_statements where from_sql),"
                     + " (select count(*) from pg_listening_channels()),"
                     + " (select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()),"
                     + " (select count(*) from pg_cursors where name <> '')")) {
            rs.next();
            assertThat(rs.getInt(1)).as("temporary table").isZero();
            assertThat(rs.getString(2)).as("setting").isEqualTo("4MB");
            assertThat(rs.getString(3)).as("custom variable").isIn(null, "");
            assertThat(rs.getInt(4)).as("SQL-prepared statements").isZero();
            assertThat(rs.getInt(5)).as("LISTEN").isZero();
            assertThat(rs.getInt(6)).as("advisory locks").isZero();
            assertThat(rs.getInt(7)).as("cursors").isZero();
            assertThat(whoami(c)).containsExactly("bob", "app_proxy");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mallory", "no_such_role", "postgres"})
    void aRoleTheProxyMayNotBecomeIsRefusedWith28000AndTheSessionKeepsServingItsCaller(String role,
                                                                                     Database db)
            throws Exception {
        // set_user itself would switch to mallory (it checks no membership) and fails without an SQLState for a
        // role that does not exist; proxyra asks for SET ROLE's membership first.
        ProxyraDataSource ds = setUserPool(db);
        int pid;
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            pid = backendPid(c);
            s.execute("set my.mark = 'kept'");
        }
        TestCallers.set(role);
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select current_setting('my.mark', true)")) {
            rs.next();
            assertThat(rs.getString(1)).as("the refusal left alice's session as it was").isEqualTo("kept");
            assertThat(backendPid(c)).isEqualTo(pid);
            assertThat(whoami(c)).containsExactly("alice", "app_proxy");
        }
        // a fresh session refused: the pool opens no other
        mcf.close();
        ds = setUserPool(db);
        TestCallers.set(role);
        assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        TestCallers.set("bob");
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)).containsExactly("bob", "app_proxy");
        }
        assertThat(mcf.pool().discardedCount()).isZero();
    }

    @Test
    void theIdentityCheckTravelsWithTheResetAndFindsASessionDiscardAllReturnedToTheProxyAccount(Database db)
            throws Exception {
        // Below the handles, whose text scan would discard such a session on return before any check.
        PostgresRole dialect = new PostgresRole(ProxyraConfig.RoleSwitch.SET_USER);
        DbIdentity alice = DbIdentity.of("alice", "alice");
        DbIdentity bob = DbIdentity.of("bob", "bob");
        try (Connection c = db.proxyAccount(); Statement s = c.createStatement()) {
            dialect.changeIdentity(c, null, alice, true);
            assertThat(dialect.verify(c, alice)).isTrue();
            assertThat(dialect.changeIdentity(c, alice, bob, true)).as("alice to bob, checked").isTrue();
            assertThat(whoami(c)).containsExactly("bob", "app_proxy");
            s.execute("DISCARD ALL");
            assertThat(whoami(c)).as("set_user does not stop DISCARD ALL").containsExactly("app_proxy", "app_proxy");
            assertThatThrownBy(() -> s.execute("SET ROLE bob")).as("and it cannot become bob again")
                    .hasMessageContaining("blocked by set_user");
            assertThat(dialect.verify(c, bob)).isFalse();
            assertThat(dialect.changeIdentity(c, bob, alice, true)).as("found in the switch's first round trip")
                    .isFalse();
            assertThat(whoami(c)).as("not switched: the pool discards it").containsExactly("app_proxy", "app_proxy");
        }
    }

    @Test
    void setUsersOwnAllowListRefusesWith28000AndTheSessionGoesBackToItsCaller(Database db) throws Exception {
        // the deployment docs/security.md recommends: set_user may only switch to members of a callers' group
        db.execute("CREATE ROLE allowed_callers NOLOGIN; GRANT allowed_callers TO alice, bob");
        allowList(db, "+allowed_callers");
        try {
            ProxyraDataSource ds = setUserPool(db);
            int pid;
            TestCallers.set("alice");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                pid = backendPid(c);
            }
            TestCallers.set("with space"); // granted to the proxy account, not in the allow list
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("28000");
                assertThat(e.getMessage()).contains("set_user refused role \"with space\"");
            });
            TestCallers.set("alice");
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).containsExactly("alice", "app_proxy");
                assertThat(backendPid(c)).as("set back to alice, not discarded").isEqualTo(pid);
            }
            mcf.close();
            ds = setUserPool(db);
            TestCallers.set("with space");
            assertThatThrownBy(ds::getConnection).as("a fresh session").isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("28000"));
            TestCallers.set("bob");
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).containsExactly("bob", "app_proxy");
            }
            assertThat(mcf.pool().discardedCount()).isZero();
        } finally {
            allowList(db, null);
            db.execute("DROP ROLE allowed_callers");
        }
    }

    /** Sets the allow list server-wide and waits until a new session of the proxy account sees it. */
    private static void allowList(Database db, String value) throws SQLException {
        db.execute(value == null ? "ALTER SYSTEM RESET set_user.nosuperuser_target_allowlist"
                : "ALTER SYSTEM SET set_user.nosuperuser_target_allowlist = '" + value + "'");
        db.execute("SELECT pg_reload_conf()");
        String expected = value == null ? "*" : value;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Connection c = db.proxyAccount(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SHOW set_user.nosuperuser_target_allowlist")) {
                rs.next();
                if (expected.equals(rs.getString(1))) {
                    return;
                }
            }
            assertThat(System.nanoTime()).as("the server reloaded its configuration").isLessThan(deadline);
        }
    }

    @Test
    void aCallersFailedOrRolledBackTransactionDoesNotUndoTheSwitch(Database db) throws Exception {
        ProxyraDataSource ds = setUserPool(db);
        TestCallers.set("alice");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            assertThatThrownBy(() -> s.execute("select 1/0")).isInstanceOf(SQLException.class);
            c.rollback();
            assertThat(whoami(c)).containsExactly("alice", "app_proxy");
            s.execute("select 1");
            c.rollback();
            c.setAutoCommit(true);
            s.execute("begin");
            assertThatThrownBy(() -> s.execute("select reset_user('guess')")).isInstanceOf(SQLException.class);
            s.execute("rollback");
            assertThat(whoami(c)).containsExactly("alice", "app_proxy");
        }
        TestCallers.set("bob");
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)).containsExactly("bob", "app_proxy");
        }
        assertThat(mcf.pool().discardedCount()).as("nothing was undone, nothing discarded").isZero();
    }

    @Test
    void thePoolRefusesToStartWhenTheProxyAccountMayNotExecuteSetUser(Database db) throws Exception {
        db.execute("REVOKE EXECUTE ON FUNCTION reset_user(text) FROM PUBLIC, app_proxy");
        try {
            ProxyraDataSource ds = setUserPool(db);
            TestCallers.set("alice");
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> assertThat(
                    e.getMessage()).contains("RoleSwitch", "SET_ROLE", "GRANT EXECUTE ON FUNCTION public.set_user(text,"
                    + " text), public.reset_user(text) TO app_proxy"));
        } finally {
            db.execute("GRANT EXECUTE ON FUNCTION reset_user(text) TO PUBLIC");
        }
    }

    @Test
    void theStartLogNamesTheModeAndNoLogLineHoldsTheToken(Database db) throws Exception {
        try (LogCapture log = LogCapture.on("dev.proxyra", Level.ALL)) {
            ProxyraDataSource ds = setUserPool(db);
            for (String caller : new String[] {"alice", "bob", "mallory"}) {
                TestCallers.set(caller);
                try (Connection c = ds.getConnection()) {
                    whoami(c);
                } catch (SQLException refused) {
                    assertThat(refused.getSQLState()).isEqualTo("28000");
                }
            }
            assertThat(log.messages(Level.INFO)).anySatisfy(m -> assertThat(m).contains("RoleSwitch=SET_USER",
                    "set_user 4.0.1"));
            // the token: 32 random bytes in base64url, 43 characters
            assertThat(log.records()).noneSatisfy(r -> assertThat(String.valueOf(r.getMessage())
                    + r.getThrown()).containsPattern("[A-Za-z0-9_-]{43}"));
            assertThat(mcf.pool().config().toString()).contains("roleSwitch=SET_USER");
        }
    }
}
