package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * What one caller can leave on a pooled PostgreSQL session, written as the attacks a caller could make:
 * with MaxPoolSize=1 every request gets the same physical connection, so anything that survived a return
 * would reach the next borrower. Each kind of state must be gone for another identity; the same identity's
 * warm session keeps what SQL left on it (documented), but never an open transaction.
 */
@ExtendWith(PostgresExtension.class)
class SessionIsolationTest {
    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) throws SQLException {
        this.db = db;
        mcf = Factories.on(db).maxPoolSize(1).build();
        ds = Factories.dataSource(mcf);
        db.execute("DELETE FROM notes WHERE body LIKE 'isolation:%'");
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    private <T> T as(String caller, SqlWork<T> work) throws Exception {
        return TestCallers.as(caller, (Callable<T>) () -> {
            try (Connection c = ds.getConnection()) {
                return work.run(c);
            }
        });
    }

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws Exception;
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private int notesAsSuperuser(String body) throws SQLException {
        return countAsSuperuser("select count(*) from notes where body = ?", body);
    }

    private int countAsSuperuser(String sql, String parameter) throws SQLException {
        try (Connection c = db.superuser(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Fails with 25P01 outside a transaction block, so it proves no transaction is open. */
    private static boolean inTransaction(Connection c) throws SQLException {
        try {
            exec(c, "SAVEPOINT isolation_probe");
            exec(c, "RELEASE SAVEPOINT isolation_probe");
            return true;
        } catch (SQLException e) {
            if ("25P01".equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    // ---- 1. a transaction begun with SQL ----

    @ParameterizedTest
    @ValueSource(strings = {"BEGIN", "START TRANSACTION", "begin isolation level serializable"})
    void aTransactionBegunWithSqlIsRolledBackOnReturnAndNeverReachesTheNextCaller(String begin) throws Exception {
        as("alice", c -> {
            assertThat(c.getAutoCommit()).isTrue();
            exec(c, begin);
            exec(c, "insert into notes(body) values ('isolation: alice unfinished')");
            return null;
        });
        List<String> bob = as("bob", c -> {
            List<String> seen = new ArrayList<>();
            seen.add(String.valueOf(inTransaction(c)));
            exec(c, "insert into notes(body) values ('isolation: bob autocommit')");
            // bob's own ROLLBACK must not turn the session back into alice's
            try (Statement s = c.createStatement()) {
                s.execute("ROLLBACK"); // a warning, not an error, outside a transaction
            }
            seen.add(one(c, "select current_user"));
            seen.add(one(c, "select string_agg(body, ',' order by body) from notes where body like 'isolation:%'"));
            return seen;
        });
        assertThat(bob.get(0)).as("bob found a transaction open").isEqualTo("false");
        assertThat(bob.get(1)).isEqualTo("bob");
        assertThat(bob.get(2)).as("bob sees only his own row").isEqualTo("isolation: bob autocommit");
        assertThat(notesAsSuperuser("isolation: alice unfinished")).as("alice's unfinished work").isZero();
        assertThat(notesAsSuperuser("isolation: bob autocommit")).as("bob's auto-committed row").isEqualTo(1);
        assertThat(mcf.pool().lentOut()).isZero();
    }

    @Test
    void theSameCallerNeverFindsItsOwnTransactionOpenEither() throws Exception {
        as("alice", c -> {
            exec(c, "BEGIN");
            exec(c, "insert into notes(body) values ('isolation: alice again')");
            return null;
        });
        boolean open = as("alice", SessionIsolationTest::inTransaction);
        assertThat(open).isFalse();
        assertThat(notesAsSuperuser("isolation: alice again")).isZero();
    }

    @Test
    void aFailedTransactionBegunWithSqlIsRolledBackToo() throws Exception {
        as("alice", c -> {
            exec(c, "BEGIN");
            assertThatThrownBy(() -> exec(c, "select 1/0")).isInstanceOf(SQLException.class);
            return null;
        });
        String bob = as("bob", c -> one(c, "select current_user"));
        assertThat(bob).isEqualTo("bob");
    }

    // ---- 2. session state left by SQL ----

    @Test
    void aTemporaryTableCannotShadowATableForTheNextCaller() throws Exception {
        as("alice", c -> {
            exec(c, "CREATE TEMP TABLE notes (id int, owner name DEFAULT current_user, body text)");
            exec(c, "GRANT ALL ON pg_temp.notes TO PUBLIC");
            exec(c, "INSERT INTO notes(body) VALUES ('isolation: planted by alice')");
            return null;
        });
        List<String> bob = as("bob", c -> List.of(String.valueOf(one(c, "select to_regclass('pg_temp.notes')")),
                String.valueOf(c.createStatement().executeUpdate("insert into notes(body) values ('isolation: bob wrote')")),
                String.valueOf(one(c, "select string_agg(body, ',') from notes where body like 'isolation:%'"))));
        assertThat(bob.get(0)).as("alice's temporary table, seen by bob").isEqualTo("null");
        assertThat(bob.get(2)).isEqualTo("isolation: bob wrote");
        assertThat(notesAsSuperuser("isolation: bob wrote")).as("bob's row went to the real table").isEqualTo(1);
    }

    @Test
    void settingsOfOneCallerAreResetForTheNext() throws Exception {
        String[] defaults = as("bob", c -> new String[] {one(c, "show TimeZone"), one(c, "show search_path"),
            one(c, "show default_transaction_read_only"), one(c, "show statement_timeout")});
        as("alice", c -> {
            exec(c, "SET TIME ZONE 'Pacific/Chatham'");
            exec(c, "SET search_path = pg_temp, public");
            exec(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            exec(c, "SET statement_timeout = '123s'");
            // not set_config(...): that text would make proxyra discard the session (it can set the role)
            exec(c, "SET app.tenant = 'alice-tenant'");
            return null;
        });
        String[] bob = as("bob", c -> new String[] {one(c, "show TimeZone"), one(c, "show search_path"),
            one(c, "show default_transaction_read_only"), one(c, "show statement_timeout"),
            one(c, "select current_setting('app.tenant', true)")});
        assertThat(bob).startsWith(defaults);
        assertThat(bob[4]).as("a custom setting (row-level security by tenant)").isNullOrEmpty();
        as("bob", c -> c.createStatement().executeUpdate("insert into notes(body) values ('isolation: not read only')"));
        assertThat(notesAsSuperuser("isolation: not read only")).isEqualTo(1);
    }

    @Test
    void preparedStatementsCursorsListenersLocksAndSequencesDoNotCross() throws Exception {
        db.execute("CREATE SEQUENCE IF NOT EXISTS isolation_seq; GRANT USAGE ON SEQUENCE isolation_seq TO callers");
        int pid = as("alice", c -> {
            exec(c, "PREPARE alice_plan AS select body from notes");
            exec(c, "BEGIN; DECLARE alice_cursor CURSOR WITH HOLD FOR select body from notes; COMMIT");
            exec(c, "LISTEN alice_channel");
            exec(c, "NOTIFY alice_channel, 'for alice only'");
            exec(c, "select pg_advisory_lock(424242)");
            one(c, "select nextval('isolation_seq')");
            return Sessions.backendPid(c);
        });
        List<String> bob = as("bob", c -> {
            List<String> seen = new ArrayList<>();
            seen.add(String.valueOf(Sessions.backendPid(c) == pid));
            seen.add(one(c, "select count(*) from pg_prepared_statements where from_sql"));
            seen.add(one(c, "select count(*) from pg_cursors where name = 'alice_cursor'"));
            seen.add(one(c, "select count(*) from pg_listening_channels()"));
            seen.add(one(c, "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"));
            PGNotification[] notes = c.unwrap(PGConnection.class).getNotifications();
            seen.add(String.valueOf(notes == null ? 0 : notes.length));
            try {
                seen.add("currval=" + one(c, "select currval('isolation_seq')"));
            } catch (SQLException e) {
                seen.add(e.getSQLState());
            }
            return seen;
        });
        assertThat(bob).as("same backend, prepared, cursor, LISTEN, advisory locks, notifications, currval")
                .containsExactly("true", "0", "0", "0", "0", "0", "55000");
        // and the lock alice took is free for everyone
        try (Connection su = db.superuser()) {
            assertThat(one(su, "select pg_try_advisory_lock(424242)")).isEqualTo("t");
            one(su, "select pg_advisory_unlock(424242)");
        }
    }

    /**
     * The attack on the statements and plans the switch keeps: pgjdbc's server-side prepared statement (beyond its
     * prepareThreshold, 5) is reused by the next caller, whose row-level security must still decide what it sees;
     * a search_path or a temporary table the previous caller left must not decide what it reads.
     */
    @Test
    void theDriversStatementCacheStaysCorrectAcrossTheReset() throws Exception {
        String sql = "select current_user, count(*), pg_catalog.count(*) filter (where owner <> current_user)"
                + " from notes where body <> ?";
        Map<String, String> own = new HashMap<>();
        for (String caller : new String[] {"alice", "bob"}) {
            own.put(caller, String.valueOf(notesOwnedBy(caller)));
        }
        for (String caller : new String[] {"alice", "bob", "alice", "bob"}) {
            as(caller, c -> {
                for (int i = 0; i < 8; i++) {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.setString(1, "none");
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertThat(rs.getString(1)).isEqualTo(caller);
                            assertThat(rs.getString(2)).as("rows %s sees", caller).isEqualTo(own.get(caller));
                            assertThat(rs.getString(3)).as("rows of others %s sees", caller).isEqualTo("0");
                        }
                    }
                }
                // the next caller's reuse must not resolve notes through what this one leaves
                exec(c, "CREATE TEMP TABLE notes (id int, owner name, body text)");
                exec(c, "INSERT INTO pg_temp.notes VALUES (1, 'mallory', 'x'), (2, 'mallory', 'y')");
                exec(c, "SET search_path = pg_temp, public");
                return null;
            });
        }
    }

    private int notesOwnedBy(String owner) throws SQLException {
        return countAsSuperuser("select count(*) from notes where owner = ? and body <> 'none'", owner);
    }

    @Test
    void theSameCallersWarmSessionKeepsWhatItsSqlLeftAsDocumented() throws Exception {
        as("alice", c -> {
            exec(c, "CREATE TEMP TABLE alice_scratch (x int)");
            exec(c, "SET TIME ZONE 'Pacific/Chatham'");
            return null;
        });
        String[] again = as("alice", c -> new String[] {one(c, "select to_regclass('pg_temp.alice_scratch')::text"),
            one(c, "show TimeZone")});
        assertThat(again).containsExactly("alice_scratch", "Pacific/Chatham");
        // ... and nothing of it for the next caller, nor for alice after that
        String bobSees = as("bob", c -> one(c, "select to_regclass('pg_temp.alice_scratch')::text"));
        String aliceAfterBob = as("alice", c -> one(c, "select to_regclass('pg_temp.alice_scratch')::text"));
        assertThat(bobSees).isNull();
        assertThat(aliceAfterBob).isNull();
    }

    /**
     * Two callers PrincipalMap maps to one database user: the second finds nothing of what the first left on the
     * session they share, as if they were two database users, while each one's own session stays warm for itself.
     * Settings, prepared statements and cursors are reset on the same backend; a session that had temporary objects
     * serves no other identity at all (the driver's type cache may still name them), so the second caller gets
     * another backend, without the table.
     */
    @ParameterizedTest
    @ValueSource(strings = {"VERIFY", "SCAN"})
    void twoCallersOfOneDatabaseUserNeverShareWhatTheirSqlLeft(String identityCheck) throws Exception {
        mcf.setIdentityCheck(identityCheck);
        mcf.setPrincipalMap("alice=alice,alice2=alice");
        int pid = as("alice", c -> {
            exec(c, "SET TIME ZONE 'Pacific/Chatham'");
            exec(c, "SET app.tenant = 'alice-tenant'");
            exec(c, "PREPARE alice_plan AS select body from notes");
            exec(c, "BEGIN; DECLARE alice_cursor CURSOR WITH HOLD FOR select body from notes; COMMIT");
            return Sessions.backendPid(c);
        });
        String[] aliceAgain = as("alice", c -> new String[] {one(c, "show TimeZone"),
            one(c, "select count(*) from pg_prepared_statements where from_sql")});
        assertThat(aliceAgain).as("the same caller's warm session").containsExactly("Pacific/Chatham", "1");
        List<String> alice2 = as("alice2", c -> List.of(String.valueOf(Sessions.backendPid(c) == pid),
                Sessions.currentUser(c),
                one(c, "show TimeZone").equals("Pacific/Chatham") ? "alice's time zone" : "default time zone",
                String.valueOf(one(c, "select current_setting('app.tenant', true)")).replace("null", ""),
                one(c, "select count(*) from pg_prepared_statements where from_sql"),
                one(c, "select count(*) from pg_cursors where name = 'alice_cursor'")));
        assertThat(alice2).as("same backend, role, time zone, custom setting, SQL prepared, cursor")
                .containsExactly("true", "alice", "default time zone", "", "0", "0");

        int withTemp = as("alice", c -> {
            exec(c, "CREATE TEMP TABLE alice_scratch (x int)");
            return Sessions.backendPid(c);
        });
        String aliceSeesHerTable = as("alice", c -> one(c, "select to_regclass('pg_temp.alice_scratch')::text"));
        assertThat(aliceSeesHerTable).as("the same caller's warm session").isEqualTo("alice_scratch");
        List<String> alice2AfterTemp = as("alice2", c -> List.of(String.valueOf(Sessions.backendPid(c) == withTemp),
                String.valueOf(one(c, "select to_regclass('pg_temp.alice_scratch')::text"))));
        assertThat(alice2AfterTemp).as("same backend, temp table").containsExactly("false", "null");
        // and alice2 leaves nothing for alice either
        as("alice2", c -> {
            exec(c, "CREATE TEMP TABLE alice2_scratch (x int)");
            return null;
        });
        String aliceSees = as("alice", c -> one(c, "select to_regclass('pg_temp.alice2_scratch')::text"));
        assertThat(aliceSees).isNull();
    }

    @Test
    void whatTheApplicationChangedThroughJdbcIsRestoredOnEveryReturn() throws Exception {
        String name = as("alice", c -> c.getClientInfo("ApplicationName"));
        as("alice", c -> {
            c.setClientInfo("ApplicationName", "alice-was-here");
            c.setTypeMap(java.util.Map.<String, Class<?>>of("mytype", String.class));
            c.setReadOnly(true);
            return null;
        });
        Object[] again = as("alice", c -> new Object[] {c.getClientInfo("ApplicationName"), one(c, "show application_name"),
            c.getTypeMap().size(), c.isReadOnly()});
        assertThat(again).containsExactly(name, name, 0, false);
    }

    /**
     * The attacker's way around setTypeMap: change the map getTypeMap returned. pgjdbc hands out its live map, so
     * proxyra hands out a copy (JDBC lets a driver copy the type map) and what the caller changes in it stays with them.
     */
    @Test
    void aTypeMapChangedInPlaceDoesNotReachTheNextLending() throws Exception {
        Object[] alice = as("alice", c -> {
            c.getTypeMap().put("mytype", String.class);
            return new Object[] {Sessions.backendPid(c), c.unwrap(PGConnection.class).getBackendPID()};
        });
        Object[] next = as("alice", c -> new Object[] {Sessions.backendPid(c), c.getTypeMap()});
        assertThat(next[0]).as("the same session").isEqualTo(alice[0]);
        assertThat((java.util.Map<?, ?>) next[1]).isEmpty();
        // setTypeMap, the documented way, still works for the caller who set it
        Integer size = as("alice", c -> {
            c.setTypeMap(java.util.Map.<String, Class<?>>of("mytype", String.class));
            return c.getTypeMap().size();
        });
        assertThat(size).isEqualTo(1);
    }

    // ---- 3. driver objects reached through unwrap ----

    @Test
    void anUnwrappedPgConnectionDiesWithItsHandleAndNeverRunsAsTheNextCaller() throws Exception {
        TestCallers.set("alice");
        Connection alice = ds.getConnection();
        PGConnection kept = alice.unwrap(PGConnection.class);
        assertThat(kept.getBackendPID()).isPositive();
        StringWriter out = new StringWriter();
        kept.getCopyAPI().copyOut("COPY (select current_user) TO STDOUT", out);
        assertThat(out.toString().trim()).isEqualTo("alice");
        var copy = kept.getCopyAPI();
        alice.close();

        TestCallers.set("bob");
        try (Connection bob = ds.getConnection()) {
            assertThat(Sessions.currentUser(bob)).isEqualTo("bob");
            // alice's objects, while bob holds the only physical connection
            // getBackendPID declares no SQLException: the same refusal, unchecked
            assertThatThrownBy(kept::getBackendPID).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is closed");
            assertThatThrownBy(() -> kept.escapeLiteral("x")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("is closed");
            assertThatThrownBy(() -> copy.copyOut("COPY (select current_user) TO STDOUT", new StringWriter()))
                    .isInstanceOf(SQLException.class).hasMessageContaining("is closed");
            assertThatThrownBy(() -> kept.getCopyAPI()).hasMessageContaining("is closed");
            assertThat(Sessions.currentUser(bob)).isEqualTo("bob");
        }
    }

    @Test
    void pgConnectionCallsThatWouldChangeOrKeepTheSessionAreRefusedWithAnAlternative() throws Exception {
        as("alice", c -> {
            PGConnection pg = c.unwrap(PGConnection.class);
            assertThat(c.isWrapperFor(PGConnection.class)).isTrue();
            for (ThrowingCall call : new ThrowingCall[] {pg::getLargeObjectAPI, pg::getFastpathAPI,
                () -> pg.setDefaultFetchSize(1), pg::cancelQuery, () -> pg.addDataType("x", org.postgresql.util.PGobject.class)}) {
                assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                        .hasMessageContaining("is not available through proxyra")
                        .hasMessageContaining("use plain JDBC")
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("0A000");
            }
            // methods that declare no SQLException get the same refusal, unchecked
            for (ThrowingCall call : new ThrowingCall[] {() -> pg.setPrepareThreshold(0), () -> pg.addDataType("x", "y"),
                pg::getReplicationAPI, () -> pg.setAutosave(org.postgresql.jdbc.AutoSave.ALWAYS)}) {
                assertThatThrownBy(call::run).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining("is not available through proxyra");
            }
            // java.sql.Connection's own methods are the handle's
            assertThat(pg.escapeIdentifier("a b")).isEqualTo("\"a b\"");
            return null;
        });
    }

    @Test
    void theDriversInternalInterfacesAreNeverHandedOut() throws Exception {
        as("alice", c -> {
            for (Class<?> internal : new Class<?>[] {org.postgresql.core.BaseConnection.class,
                org.postgresql.jdbc.PgConnection.class, java.io.Closeable.class}) {
                assertThatThrownBy(() -> c.unwrap(internal)).isInstanceOf(SQLException.class)
                        .hasMessageContaining("never handed to the application")
                        .hasMessageContaining("org.postgresql.PGConnection is offered");
                assertThat(c.isWrapperFor(internal)).isFalse();
            }
            try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.unwrap(org.postgresql.core.BaseConnection.class))
                        .isInstanceOf(SQLException.class);
                assertThat(s.getConnection()).isSameAs(c);
                org.postgresql.PGStatement pg = s.unwrap(org.postgresql.PGStatement.class);
                assertThat(pg.getClass().getName()).doesNotStartWith("org.postgresql");
                assertThat(((Statement) pg).getConnection()).isSameAs(c);
            }
            return null;
        });
    }

    @Test
    void refCursorsArraysAndMetadataLeadBackToTheHandleAndDieWithIt() throws Exception {
        db.execute("CREATE OR REPLACE FUNCTION isolation_cursor() RETURNS refcursor LANGUAGE plpgsql AS"
                + " $$ DECLARE r refcursor := 'isolation_rc'; BEGIN OPEN r FOR select current_user; RETURN r; END $$;"
                + " GRANT EXECUTE ON FUNCTION isolation_cursor() TO callers");
        TestCallers.set("alice");
        Connection c = ds.getConnection();
        c.setAutoCommit(false); // a ref cursor lives in its transaction
        ResultSet cursor;
        java.sql.Array array;
        ResultSet arrayRows;
        ResultSet tables;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select isolation_cursor(), array[1,2,3]")) {
            rs.next();
            cursor = (ResultSet) rs.getObject(1);
            assertThat(cursor.getStatement().getConnection()).isSameAs(c);
            assertThat(cursor.next()).isTrue();
            assertThat(cursor.getString(1)).isEqualTo("alice");
            array = rs.getArray(2);
            arrayRows = array.getResultSet();
            assertThat(arrayRows.getStatement()).as("an array's rows come from no statement").isNull();
        }
        // an array is valid for its transaction, not just its result set (JDBC)
        assertThat((Integer[]) array.getArray()).containsExactly(1, 2, 3);
        tables = c.getMetaData().getTables(null, "public", "notes", null);
        assertThat(c.getMetaData()).as("one metadata object per handle").isSameAs(c.getMetaData());
        assertThat(c.getMetaData().getConnection()).isSameAs(c);
        assertThat(cursor.getClass().getName()).doesNotStartWith("org.postgresql");
        assertThat(array.getClass().getName()).doesNotStartWith("org.postgresql");
        c.rollback();
        c.close();
        for (ThrowingCall call : new ThrowingCall[] {cursor::next, array::getArray, arrayRows::next, tables::next}) {
            assertThatThrownBy(call::run).isInstanceOf(SQLException.class).hasMessageContaining("is closed");
        }
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
