package dev.proxyra.it;

import static dev.proxyra.testing.Sessions.backendPid;
import static dev.proxyra.testing.Sessions.whoami;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.proxyra.dialect.PostgresRole;
import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.SetUserDatabaseExtension;
import dev.proxyra.testing.TestCallers;

/**
 * The escape catalogue, run through proxyra's DataSource in both switch modes on one PostgreSQL 15 with set_user:
 * for each way a caller's SQL can try to leave its role, what each mode does. BLOCKED: the database refuses it,
 * the session stays the caller's. HARMLESS: it runs and changes no identity. DISCARDED: it reaches another identity
 * within the lending, and the session is found and discarded before anyone else gets it. UNSEEN: it reaches another
 * identity and comes back, so nothing after the lending can see it: not preventable in that mode. The table in
 * docs/security.md ("Switch modes on PostgreSQL") states these results. RESET ALL under set_user, which ends every
 * session of the server, is {@link SetUserResetAllTest}.
 */
@ExtendWith(SetUserDatabaseExtension.class)
class SwitchModeEscapeTest {
    enum Outcome { BLOCKED, HARMLESS, DISCARDED, UNSEEN }

    private final List<ProxyraManagedConnectionFactory> factories = new ArrayList<>();

    @BeforeEach
    void createFunctions(Database db) throws Exception {
        db.execute("CREATE OR REPLACE FUNCTION innocent(r text) RETURNS int LANGUAGE plpgsql AS"
                + " $$ BEGIN EXECUTE 'SET ROLE ' || quote_ident(r); RETURN 1; END $$;"
                + " GRANT EXECUTE ON FUNCTION innocent(text) TO callers;"
                + " CREATE OR REPLACE FUNCTION definer_sets_role(r text) RETURNS int LANGUAGE plpgsql SECURITY DEFINER"
                + " AS $$ BEGIN EXECUTE 'SET ROLE ' || quote_ident(r); RETURN 1; END $$;"
                + " ALTER FUNCTION definer_sets_role(text) OWNER TO alice");
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        factories.forEach(ProxyraManagedConnectionFactory::close);
    }

    private ProxyraManagedConnectionFactory pool(Database db, String mode, String name) {
        ProxyraManagedConnectionFactory mcf = Factories.on(db).maxPoolSize(1).roleSwitch(mode).build();
        mcf.setPoolName(name);
        factories.add(mcf);
        return mcf;
    }

    /** name, the identity the escape aims at, its statements, what SET_ROLE does, what SET_USER does. */
    static Stream<Arguments> catalogue() {
        Outcome B = Outcome.BLOCKED;
        Outcome H = Outcome.HARMLESS;
        Outcome D = Outcome.DISCARDED;
        Outcome U = Outcome.UNSEEN;
        return Stream.of(
                escape("SET ROLE bob", "bob", D, B, "SET ROLE bob"),
                escape("SET ROLE NONE", "app_proxy", D, B, "SET ROLE NONE"),
                escape("RESET ROLE", "app_proxy", D, B, "RESET ROLE"),
                escape("SET ROLE NONE; SET ROLE bob", "bob", D, B, "SET ROLE NONE", "SET ROLE bob"),
                escape("SET SESSION AUTHORIZATION DEFAULT", "app_proxy", D, B, "SET SESSION AUTHORIZATION DEFAULT"),
                escape("SET SESSION AUTHORIZATION bob", "bob", B, B, "SET SESSION AUTHORIZATION bob"),
                escape("set_config('role', 'bob')", "bob", D, B, "select set_config('role', 'bob', false)"),
                escape("set_config('session_authorization', 'app_proxy')", "app_proxy", D, B,
                        "select set_config('session_authorization', 'app_proxy', false)"),
                escape("BEGIN; SET LOCAL ROLE bob; ...; COMMIT", "bob", U, B,
                        "BEGIN", "SET LOCAL ROLE bob", "select current_user::text", "COMMIT"),
                escape("DO block: EXECUTE 'SET ' || 'ROLE bob'", "bob", D, B,
                        "DO $$ BEGIN EXECUTE 'SET ' || 'ROLE bob'; END $$"),
                escape("DO block: RESET ROLE, back to alice", "app_proxy", U, B,
                        "DO $$ BEGIN EXECUTE 'RESET ' || 'ROLE'; RAISE NOTICE '%', current_user;"
                                + " EXECUTE 'SET ' || 'ROLE alice'; END $$"),
                escape("plpgsql function: EXECUTE 'SET ROLE ' || r", "bob", D, B, "select innocent('bob')"),
                escape("SECURITY DEFINER function: SET ROLE", "bob", B, B, "select definer_sets_role('bob')"),
                escape("reset_user()", "app_proxy", H, B, "select reset_user()"),
                escape("reset_user('guess')", "app_proxy", H, B, "select reset_user('guess')"),
                escape("set_user('bob', 'guess')", "bob", B, B, "select set_user('bob', 'guess')"),
                escape("DISCARD ALL", "app_proxy", D, D, "DISCARD ALL"),
                escape("DISCARD ALL in a DO block", "app_proxy", B, B, "DO $$ BEGIN EXECUTE 'DISCARD ALL'; END $$"),
                escape("DISCARD ALL in a transaction", "app_proxy", B, B, "BEGIN", "DISCARD ALL", "ROLLBACK"),
                escape("DISCARD PLANS, SEQUENCES, TEMP", "app_proxy", H, H,
                        "DISCARD PLANS", "DISCARD SEQUENCES", "DISCARD TEMP"),
                escape("RESET ALL (SET_ROLE mode only)", "app_proxy", H, null, "RESET ALL"));
    }

    private static Arguments escape(String name, String target, Outcome setRole, Outcome setUser, String... sql) {
        return Arguments.of(name, target, setRole, setUser, List.of(sql));
    }

    /** What alice's lending saw: any statement refused, any answer naming the target, the backend. */
    record Attempt(List<String> errors, boolean reached, int pid) {
    }

    private static Attempt attempt(ProxyraDataSource ds, String target, List<String> statements) throws SQLException {
        TestCallers.set("alice");
        List<String> errors = new ArrayList<>();
        boolean reached = false;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            int pid = backendPid(c);
            List<String> all = new ArrayList<>(statements);
            all.add("select current_user::text");
            for (String sql : all) {
                try {
                    if (s.execute(sql)) {
                        try (ResultSet rs = s.getResultSet()) {
                            reached |= rs.next() && target.equals(rs.getString(1));
                        }
                    }
                    for (SQLException notice = s.getWarnings(); notice != null; notice = notice.getNextException()) {
                        reached |= target.equals(notice.getMessage());
                    }
                    s.clearWarnings();
                } catch (SQLException e) {
                    errors.add(e.getSQLState() + " " + e.getMessage());
                }
            }
            return new Attempt(errors, reached, pid);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogue")
    void eachEscapeDoesInEachModeWhatTheCatalogueSays(String name, String target, Outcome setRole, Outcome setUser,
                                                      List<String> sql, Database db) throws Exception {
        for (String mode : new String[] {"SET_ROLE", "SET_USER"}) {
            Outcome expected = mode.equals("SET_ROLE") ? setRole : setUser;
            if (expected == null) {
                continue;
            }
            ProxyraManagedConnectionFactory mcf = pool(db, mode, "escapes-" + mode);
            ProxyraDataSource ds = Factories.dataSource(mcf);
            Attempt a = attempt(ds, target, sql);
            String what = mode + ": " + name + " " + a;
            switch (expected) {
                case BLOCKED -> assertThat(a.errors()).as(what).isNotEmpty();
                case HARMLESS -> assertThat(a.errors()).as(what).isEmpty();
                default -> { }
            }
            assertThat(a.reached()).as(what).isEqualTo(expected == Outcome.DISCARDED || expected == Outcome.UNSEEN);
            // proxyra's text scan discards every session whose SQL names a role change, whatever it did
            boolean scanned = sql.stream().anyMatch(new PostgresRole()::mayChangeIdentity);
            boolean discarded = expected == Outcome.DISCARDED || scanned;
            TestCallers.set("alice");
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).as(what).containsExactly("alice", "app_proxy");
                assertThat(backendPid(c) != a.pid()).as(what + ": discarded (scanned: " + scanned + ")")
                        .isEqualTo(discarded);
            }
            assertThat(mcf.pool().discardedCount()).as(what).isEqualTo(discarded ? 1 : 0);
            assertThat(mcf.pool().escapesFound()).as(what + ": found by the check")
                    .isEqualTo(expected == Outcome.DISCARDED && !scanned ? 1 : 0);
            TestCallers.set("bob");
            try (Connection c = ds.getConnection()) {
                assertThat(whoami(c)).as(what).containsExactly("bob", "app_proxy");
            }
            mcf.close();
        }
    }

    // The three critical attacks: what alice reaches as the proxy account within her own lending.

    private static String proxyPassword(Database db) throws SQLException {
        try (Connection c = db.superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select rolpassword from pg_authid where rolname = 'app_proxy'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int proxyRoleSettings(Database db) throws SQLException {
        return db.queryInt("select count(*) from pg_db_role_setting where setrole = 'app_proxy'::regrole");
    }

    /** The hidden way in: leave, act as the proxy account, come back as alice, so that no check sees it. */
    private static final String HIDDEN = "DO $$ BEGIN EXECUTE 'RESET ' || 'ROLE'; EXECUTE %s; EXECUTE 'SET ' || 'ROLE alice'; END $$";

    @ParameterizedTest
    @ValueSource(strings = {"SET_ROLE", "SET_USER"})
    void takingOverTheProxyAccountWithAlterRolePassword(String mode, Database db) throws Exception {
        String before = proxyPassword(db);
        ProxyraManagedConnectionFactory mcf = pool(db, mode, "takeover-" + mode);
        ProxyraDataSource ds = Factories.dataSource(mcf);
        try {
            Attempt hidden = attempt(ds, "none", List.of(String.format(HIDDEN, "'ALTER ROLE app_proxy PASSWORD ''stolen-1'''")));
            if (mode.equals("SET_ROLE")) {
                assertThat(hidden.errors()).isEmpty();
                assertThat(proxyPassword(db)).as("SET ROLE cannot stop it, and alice ends as alice: unseen")
                        .isNotEqualTo(before);
                assertThat(mcf.pool().escapesFound()).isZero();
            } else {
                assertThat(hidden.errors()).singleElement().asString().contains("blocked by set_user");
                assertThat(proxyPassword(db)).isEqualTo(before);
            }
            db.execute("ALTER ROLE app_proxy PASSWORD 'proxy-secret-for-tests'");
            String reset = proxyPassword(db);
            // set_user does not stop DISCARD ALL, which returns the session to the proxy account
            Attempt discard = attempt(ds, "app_proxy", List.of("DISCARD ALL", "ALTER ROLE app_proxy PASSWORD 'stolen-2'"));
            assertThat(discard.errors()).isEmpty();
            assertThat(proxyPassword(db)).as(mode + ": reached after DISCARD ALL").isNotEqualTo(reset);
            assertDiscardedBeforeReuse(ds, mcf, discard);
        } finally {
            db.execute("ALTER ROLE app_proxy PASSWORD 'proxy-secret-for-tests'");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET_ROLE", "SET_USER"})
    void givingTheProxyAccountSettingsForEveryLaterSession(String mode, Database db) throws Exception {
        ProxyraManagedConnectionFactory mcf = pool(db, mode, "settings-" + mode);
        ProxyraDataSource ds = Factories.dataSource(mcf);
        try {
            Attempt hidden = attempt(ds, "none", List.of(String.format(HIDDEN,
                    "'ALTER ROLE app_proxy SET default_transaction_read_only = on'")));
            if (mode.equals("SET_ROLE")) {
                assertThat(hidden.errors()).isEmpty();
                assertThat(proxyRoleSettings(db)).isEqualTo(1);
            } else {
                assertThat(hidden.errors()).singleElement().asString().contains("blocked by set_user");
                assertThat(proxyRoleSettings(db)).isZero();
            }
            db.execute("ALTER ROLE app_proxy RESET ALL");
            Attempt discard = attempt(ds, "app_proxy", List.of("DISCARD ALL",
                    "ALTER ROLE app_proxy SET search_path = alice_was_here"));
            assertThat(discard.errors()).isEmpty();
            assertThat(proxyRoleSettings(db)).as(mode + ": reached after DISCARD ALL").isEqualTo(1);
            // the escaped session is discarded on return; the next new session finds the defaults and is refused
            TestCallers.set("alice");
            assertThatThrownBy(() -> ds.getConnection().close()).isInstanceOf(SQLException.class)
                    .hasMessageContaining("ALTER ROLE app_proxy RESET search_path")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"));
            db.execute("ALTER ROLE app_proxy RESET ALL");
            assertDiscardedBeforeReuse(ds, mcf, discard, 2);
        } finally {
            db.execute("ALTER ROLE app_proxy RESET ALL");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET_ROLE", "SET_USER"})
    void readingAndKillingAnotherCallersPooledSession(String mode, Database db) throws Exception {
        ProxyraDataSource ds = Factories.dataSource(pool(db, mode, "reader-" + mode));
        ProxyraManagedConnectionFactory victims = pool(db, mode, "victim-" + mode);
        TestCallers.set("bob");
        try (Connection bob = Factories.dataSource(victims).getConnection(); Statement s = bob.createStatement()) {
            int victim = backendPid(bob);
            s.execute("select 'bob-secret-statement'");
            String read = "select coalesce(substring((select query from pg_stat_activity where pid = " + victim
                    + ") from 'bob-secret-statement'), '')";
            String kill = "select pg_terminate_backend(" + victim + ")::text";
            Attempt direct = attempt(ds, "bob-secret-statement", List.of("SET ROLE NONE",
                    read, kill, "SET ROLE alice"));
            if (mode.equals("SET_ROLE")) {
                assertThat(direct.errors()).isEmpty();
                assertThat(direct.reached()).as("bob's statement read").isTrue();
                assertThat(db.backendGone(victim, java.time.Duration.ofSeconds(30)))
                        .as("bob's session killed while he holds it").isTrue();
                return;
            }
            assertThat(direct.errors()).as("SET ROLE NONE and pg_terminate_backend refused").hasSize(3);
            assertThat(direct.reached()).isFalse();
            assertThat(db.queryInt("select count(*) from pg_stat_activity where pid = " + victim)).isEqualTo(1);
            s.execute("select 'bob-secret-statement'");
            Attempt discard = attempt(ds, "bob-secret-statement", List.of("DISCARD ALL",
                    read, kill));
            assertThat(discard.errors()).isEmpty();
            assertThat(discard.reached()).as("set_user does not stop DISCARD ALL: bob's statement read").isTrue();
            assertThat(db.backendGone(victim, java.time.Duration.ofSeconds(30)))
                    .as("and bob's session killed").isTrue();
        }
    }

    private static void assertDiscardedBeforeReuse(ProxyraDataSource ds, ProxyraManagedConnectionFactory mcf,
                                                   Attempt escaped) throws Exception {
        assertDiscardedBeforeReuse(ds, mcf, escaped, 1);
    }

    private static void assertDiscardedBeforeReuse(ProxyraDataSource ds, ProxyraManagedConnectionFactory mcf,
                                                   Attempt escaped, int discards) throws Exception {
        TestCallers.set("alice");
        try (Connection c = ds.getConnection()) {
            assertThat(whoami(c)).containsExactly("alice", "app_proxy");
            assertThat(backendPid(c)).as("the session DISCARD ALL returned to the proxy account is not lent again")
                    .isNotEqualTo(escaped.pid());
        }
        assertThat(mcf.pool().discardedCount()).isEqualTo(discards);
    }
}
