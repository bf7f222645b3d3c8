package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PGobject;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics.Discard;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * pgjdbc resolves a type name (a PGobject parameter, createArrayOf) once per physical connection, a plain name by the
 * search_path of the moment, an array's element type as the newest of that name in any schema of the session, the
 * temporary one included, and keeps the answer for the connection's life: DISCARD TEMP does not touch that cache. A caller's temporary type must not decide how the next
 * caller's value is sent. One physical connection (MaxPoolSize=1): the next borrower gets the session the previous
 * caller used, unless proxyra discards it.
 */
@ExtendWith(PostgresExtension.class)
class DriverTypeCacheTest {
    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) throws SQLException {
        this.db = db;
        db.execute("DO $$ BEGIN IF to_regtype('public.s13_mood') IS NULL THEN"
                + " CREATE TYPE public.s13_mood AS ENUM ('sad', 'ok', 'happy'); END IF;"
                + " IF to_regtype('public.s13_point') IS NULL THEN CREATE TYPE public.s13_point AS (x int, y int); END IF;"
                + " END $$;"
                + " CREATE TABLE IF NOT EXISTS s13_feelings (owner name NOT NULL DEFAULT current_user, mood s13_mood,"
                + " moods s13_mood[]); GRANT SELECT, INSERT ON s13_feelings TO callers; TRUNCATE s13_feelings");
        mcf = Factories.on(db).maxPoolSize(1).build();
        ds = Factories.dataSource(mcf);
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

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static PGobject value(String type, String value) throws SQLException {
        PGobject o = new PGobject();
        o.setType(type);
        o.setValue(value);
        return o;
    }

    /** The schema of the type the server received for the parameter: pg_temp_N or public. */
    private static String schemaOfParameter(Connection c, Object parameter) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select n.nspname from pg_type t join pg_namespace n"
                + " on n.oid = t.typnamespace where t.oid = pg_typeof(?)::oid")) {
            ps.setObject(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String schema = rs.getString(1);
                return schema.startsWith("pg_temp_") ? "pg_temp" : schema;
            }
        }
    }

    private int backendPid() throws Exception {
        return as("alice", Sessions::backendPid);
    }

    @Test
    void aCallersTemporaryEnumDoesNotDecideHowTheNextCallersValueIsSent() throws Exception {
        int alicePid = as("alice", c -> {
            exec(c, "SET search_path = pg_temp, public");
            exec(c, "CREATE TYPE pg_temp.s13_mood AS ENUM ('alice-secret')");
            assertThat(schemaOfParameter(c, value("s13_mood", "alice-secret"))).isEqualTo("pg_temp");
            return Sessions.backendPid(c);
        });
        int[] bobPid = new int[1];
        String bob = as("bob", c -> {
            bobPid[0] = Sessions.backendPid(c);
            try (PreparedStatement ps = c.prepareStatement("insert into s13_feelings (mood) values (?)")) {
                ps.setObject(1, value("s13_mood", "happy"));
                ps.executeUpdate();
            }
            return schemaOfParameter(c, value("s13_mood", "ok"));
        });
        assertThat(bob).as("the type bob's value was sent as").isEqualTo("public");
        assertThat(bobPid[0]).as("bob's backend").isNotEqualTo(alicePid);
        assertThat(db.queryInt("select count(*) from s13_feelings where owner = 'bob' and mood = 'happy'")).isEqualTo(1);
        assertThat(mcf.pool().metrics().discards(Discard.STATE_NOT_RESET)).isEqualTo(1);
    }

    @Test
    void aTemporaryTablesRowTypeDoesNotShadowAPublicCompositeTypeForTheNextCaller() throws Exception {
        as("alice", c -> {
            exec(c, "SET search_path = pg_temp, public");
            exec(c, "CREATE TEMP TABLE s13_point (x text, secret text)");
            assertThat(schemaOfParameter(c, value("s13_point", "(a,alice-secret)"))).isEqualTo("pg_temp");
            return null;
        });
        String bob = as("bob", c -> {
            try (PreparedStatement ps = c.prepareStatement("select (?::s13_point).y")) {
                ps.setObject(1, value("s13_point", "(1,2)"));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(2);
                }
            }
            return schemaOfParameter(c, value("s13_point", "(3,4)"));
        });
        assertThat(bob).isEqualTo("public");
    }

    /** pgjdbc resolves an array's element type among every schema of the session, the temporary one included. */
    @Test
    void anArrayOfATemporaryTypeDoesNotDecideTheNextCallersArrayEvenWithTheDefaultSearchPath() throws Exception {
        as("alice", c -> {
            exec(c, "CREATE TYPE pg_temp.s13_mood AS ENUM ('alice-secret')");
            assertThat(schemaOfParameter(c, c.createArrayOf("s13_mood", new Object[] {"alice-secret"})))
                    .isEqualTo("pg_temp");
            return null;
        });
        String bob = as("bob", c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into s13_feelings (moods) values (?)")) {
                ps.setArray(1, c.createArrayOf("s13_mood", new Object[] {"sad", "happy"}));
                ps.executeUpdate();
            }
            return schemaOfParameter(c, c.createArrayOf("s13_mood", new Object[] {"ok"}));
        });
        assertThat(bob).isEqualTo("public");
        assertThat(db.queryInt("select count(*) from s13_feelings where owner = 'bob' and moods = '{sad,happy}'"))
                .isEqualTo(1);
    }

    /** Dropped before the return, the temporary type is still in the driver's cache: the check must not miss it. */
    @Test
    void aTemporaryTypeTheCallerDroppedItselfStillKeepsTheSessionFromTheNextIdentity() throws Exception {
        as("alice", c -> {
            exec(c, "SET search_path = pg_temp, public");
            exec(c, "CREATE TYPE pg_temp.s13_mood AS ENUM ('alice-secret')");
            assertThat(schemaOfParameter(c, value("s13_mood", "alice-secret"))).isEqualTo("pg_temp");
            exec(c, "DROP TYPE pg_temp.s13_mood");
            return null;
        });
        String bob = as("bob", c -> schemaOfParameter(c, value("s13_mood", "happy")));
        assertThat(bob).isEqualTo("public");
    }

    /**
     * The same caller's next request keeps its warm session, its temporary type and the driver's answer for it:
     * they agree. After another identity was served, that session is gone, and so is the type.
     */
    @Test
    void theSameCallersNextRequestKeepsItsTemporaryTypeAndTheDriverAgrees() throws Exception {
        int pid = as("alice", c -> {
            exec(c, "SET search_path = pg_temp, public");
            exec(c, "CREATE TYPE pg_temp.s13_mood AS ENUM ('alice-own')");
            assertThat(schemaOfParameter(c, value("s13_mood", "alice-own"))).isEqualTo("pg_temp");
            return Sessions.backendPid(c);
        });
        String again = as("alice", c -> schemaOfParameter(c, value("s13_mood", "alice-own")));
        assertThat(again).isEqualTo("pg_temp");
        assertThat(backendPid()).as("a warm session").isEqualTo(pid);
        as("bob", Sessions::currentUser);
        String afterBob = as("alice", c -> schemaOfParameter(c, value("s13_mood", "ok")));
        assertThat(afterBob).isEqualTo("public");
    }

    /** A session that never had a temporary object is switched, not discarded: the check costs no reconnect. */
    @Test
    void aSessionWithoutTemporaryObjectsIsSwitchedAsBefore() throws Exception {
        int pid = as("alice", c -> {
            assertThat(schemaOfParameter(c, value("s13_mood", "ok"))).isEqualTo("public");
            return Sessions.backendPid(c);
        });
        int bobPid = as("bob", c -> {
            assertThat(schemaOfParameter(c, value("s13_mood", "sad"))).isEqualTo("public");
            return Sessions.backendPid(c);
        });
        assertThat(bobPid).isEqualTo(pid);
        assertThat(mcf.pool().discardedCount()).isZero();
    }
}
