package dev.proxyra.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RestartableDatabaseExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * The bad-input catalogue: callers and configurations an attacker or a mistake can produce. For each
 * case the exact outcome (SQLState and message), proof from the database's own statement statistics
 * that nothing ran as the proxy account (pg_stat_statements records the current_user of every
 * statement; only the driver's login, the adapter's own SET ROLE NONE and its catalogue reads checking the proxy
 * account may appear under app_proxy), and
 * the state of the pool afterwards. The observed table is written to target/reliability-catalogue.md
 * (docs/security.md keeps a copy).
 */
@ExtendWith(RestartableDatabaseExtension.class)
class BadInputCatalogueTest {
    /** What the proxy account itself may be recorded running: the driver's login, the adapter's reset. */
    private static final Set<String> HOUSEKEEPING = Set.of("SET application_name = $1", "SET application_name = 'PostgreSQL JDBC Driver'",
            "SET ROLE NONE");
    /**
     * The adapter's own catalogue reads that check what the proxy account may reach, before the pool serves anyone and
     * on each new session before its first SET ROLE (recorded as pg_stat_statements normalizes them).
     */
    private static final List<String> PROXY_ACCOUNT_CHECKS = List.of("select session_user",
            "with proxy as (select r.oid, r.rolname, r.rolsuper from pg_catalog.pg_roles r where r.rolname = session_user)",
            "select d.name, d.fix from (select s.name, case s.source when $1 then pg_catalog.format($2, session_user, s.name)");
    private static final String WRONG_PASSWORD = "not-the-proxy-password-42";

    /** How the request is made: as a caller through the CallerSource, or with getConnection(user, password). */
    private record Request(String caller, boolean explicit, String user, String password) {
        static Request as(String caller) {
            return new Request(caller, false, null, null);
        }

        static Request explicit(String user, String password) {
            return new Request(null, true, user, password);
        }
    }

    /**
     * One case: what is configured and asked for, and what must come of it. {@code state} null means the
     * request must succeed and run as {@code servedAs}.
     */
    private record Case(String name, Consumer<ProxyraManagedConnectionFactory> config, Request request, String state,
                        String fragment, String servedAs, boolean configuration, Use use) {
        Case(String name, Consumer<ProxyraManagedConnectionFactory> config, Request request, String state,
             String fragment, String servedAs, boolean configuration) {
            this(name, config, request, state, fragment, servedAs, configuration, null);
        }
    }

    /** What the caller does with the connection it got: an attempt to reach the driver or to leave state behind. */
    @FunctionalInterface
    private interface Use {
        void on(Connection c) throws SQLException;
    }

    /** bob is served and uses his connection; {@code state} null: the use succeeds, else it fails with that SQLState. */
    private static Case use(String name, Use use, String state, String fragment) {
        return new Case(name, f -> { }, Request.as("bob"), state, fragment, state == null ? "bob" : null, false, use);
    }

    private static void sql(Connection c, String... statements) throws SQLException {
        try (java.sql.Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    private static Case refused(String name, String caller, String fragment) {
        return new Case(name, f -> { }, Request.as(caller), "28000", fragment, null, false);
    }

    private static Case served(String name, String caller) {
        return new Case(name, f -> { }, Request.as(caller), null, null, caller, false);
    }

    private static Case badConfig(String name, Consumer<ProxyraManagedConnectionFactory> config, String state,
                                  String fragment) {
        return new Case(name, config, Request.as("alice"), state, fragment, null, true);
    }

    private static List<Case> cases(Database db, int closedPort) {
        return List.of(
                new Case("no caller (unauthenticated request)", f -> { }, Request.as(null), "28000",
                        "no caller could be resolved", null, false),
                new Case("caller not in PrincipalMap with RequirePrincipalMapping=true", f -> {
                    f.setPrincipalMap("alice=alice");
                    f.setRequirePrincipalMapping("true");
                }, Request.as("bob"), "28000", "is not in PrincipalMap", null, false),
                refused("empty name", "", "is empty"),
                refused("blank name", "   ", "is empty"),
                refused("overlong name (64 ASCII characters)", "a".repeat(64), "is 64 bytes long; postgresql allows at most 63"),
                refused("overlong name (32 two-byte characters, 64 bytes)", "\u00e9".repeat(32),
                        "is 64 bytes long; postgresql allows at most 63"),
                refused("NUL character", "al\u0000ice", "contains a control character (U+0000)"),
                refused("newline", "bob\nadmin", "contains a control character (U+000A)"),
                refused("right-to-left override", "a\u202Eb", "contains a control character (U+202E)"),
                refused("double quote injection", "alice\"; RESET ROLE; --", "may not act as database user"),
                refused("single quote injection", "x'; SET ROLE postgres; --", "may not act as database user"),
                refused("unicode name without a role", "Zo\u00eb \u00dcnkn\u00f8wn", "may not act as database user"),
                refused("unknown role", "nobody_here", "may not act as database user"),
                refused("role not granted to the proxy account", "mallory", "may not act as database user"),
                refused("the superuser's role", "postgres", "may not act as database user"),
                refused("reserved word none (SET ROLE NONE would reset)", "none", "may not act as database user"),
                refused("pseudo-role public", "public", "may not act as database user"),
                refused("the proxy account's own name", Database.PROXY_USER, "proxy account"),
                // A group role the proxy reaches through a caller's membership (alice IN ROLE callers): PostgreSQL
                // lets app_proxy SET ROLE to it. Not the proxy account, but a caller of that name gets the group.
                served("group role reachable through a caller's membership (seed: alice IN ROLE callers)", "callers"),
                // The remedy (PostgreSQL 16+): grant groups to callers WITH SET FALSE; privileges still inherit.
                refused("group role granted to a caller WITH SET FALSE", "reliability_group", "may not act as database user"),
                served("quotes in a granted role's name", "o'brien \"x\""),
                served("unicode granted role", "Zo\u00eb \u00dcn\u00efc\u00f8d\u00e9"),
                new Case("explicit user without AllowExplicitUser", f -> { }, Request.explicit("alice", null), "28000",
                        "AllowExplicitUser=true", null, false),
                new Case("explicit user with a password on PostgreSQL", f -> f.setAllowExplicitUser("true"),
                        Request.explicit("alice", "secret-x"), "28000", "password cannot be checked on PostgreSQL", null, false),
                badConfig("wrong proxy password", f -> f.setPassword(WRONG_PASSWORD), "28000", "cannot log in"),
                badConfig("no proxy password", f -> f.setPassword(null), "28000", "cannot log in"),
                badConfig("unreachable URL (nothing listens)", f -> f.setURL("jdbc:postgresql://127.0.0.1:" + closedPort
                        + "/postgres"), "08001", "unreachable"),
                badConfig("malformed URL (no jdbc: prefix)", f -> f.setURL("postgresql://127.0.0.1:" + db.port() + "/postgres"),
                        "08001", "invalid URL"),
                badConfig("malformed URL (port not a number)", f -> f.setURL("jdbc:postgresql://127.0.0.1:notaport/postgres"),
                        "08001", "URL"),
                badConfig("malformed URL with a password in it", f -> f.setURL(
                        "jdbc:postgresql://127.0.0.1:notaport/postgres?user=app_proxy&password=" + URL_SECRET), "08001", "URL"),
                badConfig("URL of an unsupported database", f -> f.setURL("jdbc:mysql://127.0.0.1:3306/erp"), "08001",
                        "Dialect auto cannot recognise"),
                badConfig("MinPoolSize above MaxPoolSize", f -> {
                    f.setMinPoolSize(5);
                    f.setMaxPoolSize(2);
                }, "08001", "MinPoolSize must not exceed MaxPoolSize"),
                badConfig("InitialPoolSize above MaxPoolSize", f -> {
                    f.setInitialPoolSize(9);
                    f.setMaxPoolSize(2);
                }, "08001", "InitialPoolSize must not exceed MaxPoolSize"),
                badConfig("MaxPoolSize 0", f -> f.setMaxPoolSize(0), "08001", "expected a whole number >= 1"),
                badConfig("negative ConnectionWaitTimeout", f -> f.setConnectionWaitTimeout(-1), "08001",
                        "expected a whole number of seconds from 1 to 2147483"),
                badConfig("ConnectionWaitTimeout 0", f -> f.setConnectionWaitTimeout(0), "08001",
                        "expected a whole number of seconds from 1 to 2147483"),
                // pgjdbc counts it in milliseconds, in an int: beyond, a negative timeout it reported as an invalid URL
                badConfig("NetworkTimeout whose milliseconds overflow an int", f -> f.setNetworkTimeout(2147484), "08001",
                        "invalid NetworkTimeout '2147484'"),
                badConfig("ConnectionFactoryClassName that is not a data source",
                        f -> f.setConnectionFactoryClassName("java.lang.String"), "08001",
                        "invalid ConnectionFactoryClassName 'java.lang.String': not a data source"),
                badConfig("ConnectionFactoryClassName that does not exist",
                        f -> f.setConnectionFactoryClassName("com.example.NoSuchDataSource"), "08001",
                        "invalid ConnectionFactoryClassName 'com.example.NoSuchDataSource': no such class"),
                badConfig("flag that is neither true nor false (RequirePrincipalMapping=yes)",
                        f -> f.setRequirePrincipalMapping("yes"), "08001",
                        "invalid RequirePrincipalMapping 'yes' (from pool property RequirePrincipalMapping): allowed values are true, false"),
                badConfig("unknown Dialect", f -> f.setDialect("sybase"), "08001", "invalid Dialect 'sybase'"),
                badConfig("Dialect contradicting the URL", f -> f.setDialect("oracle"), "08001", "does not fit URL"),
                badConfig("Oracle-only property on PostgreSQL", f -> f.setRoleMap("managers=ERP_MANAGER"), "08001",
                        "applies to Oracle only"),
                badConfig("CallerSource class that does not exist", f -> f.setCallerSource("com.example.NoSuchSource"),
                        "28000", "NoSuchSource"),
                new Case("no caller with UnauthenticatedAccess=METADATA_ONLY: a statement", f -> f.setUnauthenticatedAccess(
                        "METADATA_ONLY"), Request.as(null), "28000", "answers database metadata only", null, false,
                        c -> {
                            c.getMetaData().getDatabaseProductVersion();
                            c.createStatement();
                        }),
                // what one caller can try on its session (one physical connection: the next caller gets the same one)
                use("unwrap to the driver's own connection class", c -> c.unwrap(org.postgresql.core.BaseConnection.class),
                        "0A000", "never handed to the application"),
                use("PGConnection large-object API (would outlive the handle)",
                        c -> c.unwrap(org.postgresql.PGConnection.class).getLargeObjectAPI(), "0A000",
                        "is not available through proxyra"),
                use("transaction begun with SQL and left open (auto-commit on)",
                        c -> sql(c, "BEGIN", "insert into notes(body) values ('catalogue: left open')"), null, null),
                use("temporary table shadowing a real table, granted to PUBLIC", c -> sql(c,
                        "CREATE TEMP TABLE notes (id int, owner name, body text)", "GRANT ALL ON pg_temp.notes TO PUBLIC"),
                        null, null),
                use("session settings: read only, search_path, custom variable", c -> sql(c,
                        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET search_path = pg_temp",
                        "SET app.tenant = 'bob'"), null, null),
                use("PREPARE, LISTEN, advisory lock, cursor WITH HOLD", c -> sql(c, "PREPARE catalogue_plan AS select 1",
                        "LISTEN catalogue", "select pg_advisory_lock(77)",
                        "BEGIN", "DECLARE catalogue_cursor CURSOR WITH HOLD FOR select 1", "COMMIT"), null, null));
    }

    private static final String URL_SECRET = "url-secret-77";

    /** What the next caller must find on the session another caller used: nothing of it. */
    private static final String CLEAN_SESSION_PROBE = "select current_user, to_regclass('pg_temp.notes') is null,"
            + " current_setting('default_transaction_read_only'), current_setting('search_path'),"
            + " coalesce(current_setting('app.tenant', true), ''),"
            + " (select count(*) from pg_prepared_statements where from_sql), (select count(*) from pg_listening_channels()),"
            + " (select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()),"
            + " (select count(*) from pg_cursors where name <> '')";

    @Test
    void everyBadInputIsRefusedWithItsReasonNothingRunsAsTheProxyAndThePoolStaysHealthy(Database db)
            throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reliability_group') THEN"
                + " CREATE ROLE reliability_group NOLOGIN; GRANT reliability_group TO alice WITH SET FALSE; END IF; END $$");
        List<String> rows = new ArrayList<>();
        SoftAssertions softly = new SoftAssertions();
        int refusedCount = 0;
        int servedCount = 0;
        long proxyStatements = 0;
        for (Case c : cases(db, closedPort)) {
            ProxyraManagedConnectionFactory mcf = Factories.onUrl(db.url())
                    .maxPoolSize(c.use() == null ? 2 : 1)
                    .waitTimeout(1) // cases that cannot connect fail after this wait
                    .build();
            String outcomeState;
            String outcomeMessage;
            String after;
            try {
                c.config().accept(mcf);
                ProxyraDataSource ds = Factories.dataSource(mcf);
                db.resetStatementStats();
                String servedAs = null;
                int usedBackend = 0;
                SQLException failure = null;
                TestCallers.set(c.request().caller());
                try (Connection conn = c.request().explicit() ? ds.getConnection(c.request().user(), c.request().password())
                        : ds.getConnection()) {
                    if (c.use() != null) {
                        usedBackend = backendOf(conn);
                        c.use().on(conn);
                    }
                    servedAs = Sessions.currentUser(conn);
                } catch (SQLException e) {
                    failure = e;
                } finally {
                    TestCallers.set(null);
                }
                Map<String, Long> asProxy = db.statementsRunAs(Database.PROXY_USER);
                Map<String, Long> unexpected = new java.util.TreeMap<>(asProxy);
                unexpected.keySet().removeAll(HOUSEKEEPING);
                unexpected.keySet().removeIf(sql -> PROXY_ACCOUNT_CHECKS.stream().anyMatch(sql::startsWith));
                proxyStatements += unexpected.values().stream().mapToLong(Long::longValue).sum();
                softly.assertThat(unexpected).as("%s: statements that ran as the proxy account", c.name()).isEmpty();
                if (failure != null) {
                    outcomeState = failure.getSQLState();
                    outcomeMessage = failure.getMessage();
                    refusedCount++;
                    softly.assertThat(c.state()).as("%s: refused, but expected to be served (%s)", c.name(), failure)
                            .isNotNull();
                    softly.assertThat(outcomeState).as("%s: SQLState of %s", c.name(), failure).isEqualTo(c.state());
                    softly.assertThat(outcomeMessage).as("%s: message", c.name()).startsWith("proxyra:");
                    java.io.StringWriter trace = new java.io.StringWriter();
                    failure.printStackTrace(new java.io.PrintWriter(trace));
                    softly.assertThat(trace.toString()).as("%s: no password in the stack trace", c.name())
                            .doesNotContain(Database.PROXY_PASSWORD).doesNotContain(WRONG_PASSWORD)
                            .doesNotContain(URL_SECRET);
                    if (c.fragment() != null) {
                        softly.assertThat(outcomeMessage).as("%s: message", c.name()).contains(c.fragment());
                    }
                    softly.assertThat(outcomeMessage).as("%s: no password in the message", c.name())
                            .doesNotContain(Database.PROXY_PASSWORD).doesNotContain(WRONG_PASSWORD)
                            .doesNotContain("secret-x").doesNotContain(URL_SECRET);
                } else {
                    outcomeState = "-";
                    outcomeMessage = "served as current_user = " + servedAs;
                    servedCount++;
                    softly.assertThat(c.state()).as("%s: expected a refusal with %s but was served as %s", c.name(),
                            c.state(), servedAs).isNull();
                    softly.assertThat(servedAs).as("%s: served as", c.name()).isEqualTo(c.servedAs());
                }
                after = poolAfter(c, mcf, ds, db, usedBackend, softly);
            } finally {
                mcf.close();
            }
            // ports differ from run to run: the table shows placeholders
            String message = outcomeMessage.replace(":" + db.port() + "/", ":<port>/")
                    .replace(":" + closedPort + "/", ":<closed-port>/");
            rows.add("| " + cell(c.name()) + " | " + cell(outcomeState) + " | " + cell(message) + " | "
                    + cell(after) + " |");
        }
        Path table = Path.of("target", "reliability-catalogue.md");
        Files.writeString(table, "| Case | SQLState | Message | Pool after |\n|---|---|---|---|\n"
                + String.join("\n", rows) + "\n");
        Scenario.figures("bad-input-catalogue", "requests=" + rows.size() + " refused=" + refusedCount
                + " served=" + servedCount + " errors=by case, see " + table + " wrong=0 statementsAsProxy="
                + proxyStatements + " recovery=n/a physicalAtEnd=n/a (one pool per case, closed) lentOut=0");
        softly.assertAll();
    }

    /** After a caller case: the same pool serves alice with nothing lent out. After a configuration case: no login happened. */
    private static String poolAfter(Case c, ProxyraManagedConnectionFactory mcf, ProxyraDataSource ds,
                                    Database db, int usedBackend, SoftAssertions softly) throws SQLException {
        if (c.configuration()) {
            Map<String, Long> asProxy = db.statementsRunAs(Database.PROXY_USER);
            softly.assertThat(asProxy).as("%s: the proxy account logged in", c.name()).isEmpty();
            return asProxy.isEmpty() ? "no session opened as the proxy account" : "proxy logins: " + asProxy;
        }
        TestCallers.set("alice");
        String clean = "";
        try (Connection conn = ds.getConnection()) {
            String who = Sessions.currentUser(conn);
            softly.assertThat(who).as("%s: next caller", c.name()).isEqualTo("alice");
            int lent = mcf.pool().lentOut();
            softly.assertThat(lent).as("%s: lent out while alice holds one", c.name()).isEqualTo(1);
            if (c.use() != null) {
                softly.assertThat(nextCallersSession(conn)).as("%s: what alice finds on the session bob used", c.name())
                        .isEqualTo("alice, no transaction, no temporary notes, not read only, search_path \"$user\", public,"
                                + " no custom setting, 0 prepared, 0 listening, 0 advisory locks, 0 cursors");
                softly.assertThat(db.queryLong("select count(*) from notes where body like 'catalogue:%'"))
                        .as("%s: bob's unfinished work was committed", c.name()).isZero();
                // a session that had temporary objects serves no other identity (the driver's type cache): a new one
                clean = usedBackend == 0 ? " on a clean session"
                        : Sessions.backendPid(conn) == usedBackend ? " on a clean session (same backend)"
                        : " on a new session (the one bob used was discarded)";
            }
        } catch (SQLException e) {
            softly.fail("%s: the pool no longer serves alice: %s", c.name(), e);
            return "BROKEN: " + e.getMessage();
        } finally {
            TestCallers.set(null);
        }
        int lent = mcf.pool().lentOut();
        softly.assertThat(lent).as("%s: leaked borrows", c.name()).isZero();
        return "healthy: next caller (alice) served" + clean + ", " + lent + " lent out, " + mcf.pool().totalCount()
                + " physical";
    }

    /** The backend process behind a connection, 0 on one that runs no statement (METADATA_ONLY). */
    private static int backendOf(Connection c) {
        try {
            return Sessions.backendPid(c);
        } catch (SQLException refused) {
            return 0;
        }
    }

    private static String nextCallersSession(Connection c) throws SQLException {
        boolean inTransaction;
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("SAVEPOINT catalogue_probe");
            s.execute("RELEASE SAVEPOINT catalogue_probe");
            inTransaction = true;
        } catch (SQLException e) {
            if (!"25P01".equals(e.getSQLState())) {
                throw e;
            }
            inTransaction = false;
        }
        try (java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(CLEAN_SESSION_PROBE)) {
            rs.next();
            return rs.getString(1) + ", " + (inTransaction ? "a transaction open" : "no transaction") + ", "
                    + (rs.getBoolean(2) ? "no temporary notes" : "a temporary notes table") + ", "
                    + ("off".equals(rs.getString(3)) ? "not read only" : "read only") + ", search_path " + rs.getString(4)
                    + ", " + (rs.getString(5).isEmpty() ? "no custom setting" : "app.tenant=" + rs.getString(5)) + ", "
                    + rs.getLong(6) + " prepared, " + rs.getLong(7) + " listening, " + rs.getLong(8) + " advisory locks, "
                    + rs.getLong(9) + " cursors";
        }
    }

    /** Markdown table cell: control characters visible, pipes escaped. */
    private static String cell(String text) {
        StringBuilder sb = new StringBuilder();
        text.codePoints().forEach(cp -> {
            if (cp == '|') {
                sb.append("\\|");
            } else if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }
}
