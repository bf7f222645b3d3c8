package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * ClientIdentifier on PostgreSQL: the caller's name is the session's application_name (log_line_prefix %a,
 * pg_stat_activity, pgaudit), set in the switch's own round trip and set again whenever a lending changed it; the
 * caller's name is the attacker's input. MaxPoolSize=1: every borrow gets the same physical session.
 */
@ExtendWith(PostgresExtension.class)
class ApplicationNameTest {
    private Database db;
    private ProxyraManagedConnectionFactory mcf;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) {
        this.db = db;
        mcf = Factories.on(db).build();
        mcf.setMaxPoolSize(1);
    }

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        mcf.close();
    }

    private ProxyraDataSource ds() {
        if (ds == null) {
            ds = Factories.dataSource(mcf);
        }
        return ds;
    }

    /** What pg_stat_activity shows for {@code pid}, asked from another session. */
    private String shownFor(int pid) throws SQLException {
        try (Connection su = db.superuser();
             PreparedStatement s = su.prepareStatement("select application_name from pg_stat_activity where pid = ?")) {
            s.setInt(1, pid);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private record Shown(int pid, String inStatement, String toOthers) {
    }

    /** As {@code caller}: what the session's own statement and another session see while it is lent. */
    private Shown as(String caller) throws Exception {
        return TestCallers.as(caller, () -> {
            try (Connection c = ds().getConnection()) {
                int pid = Sessions.backendPid(c);
                String own = one(c, "select application_name from pg_stat_activity where pid = pg_backend_pid()");
                return new Shown(pid, own, shownFor(pid));
            }
        });
    }

    @Test
    void pgStatActivityShowsTheCallerWhileItsStatementRunsAndTheNextCallerOnTheSameSession() throws Exception {
        Shown alice = as("alice");
        assertThat(alice.inStatement()).isEqualTo("alice");
        assertThat(alice.toOthers()).isEqualTo("alice");
        Shown bob = as("bob");
        assertThat(bob.pid()).isEqualTo(alice.pid());
        assertThat(bob.inStatement()).isEqualTo("bob");
        assertThat(bob.toOthers()).isEqualTo("bob");
        assertThat(as("bob")).as("warm").isEqualTo(bob);
        assertThat(mcf.pool().metrics().borrows(Outcome.SWITCHED)).isEqualTo(1);
    }

    /** The application's own application_name, by SQL or through the JDBC API, lasts its lending only. */
    @ParameterizedTest
    @CsvSource({"VERIFY,sql", "VERIFY,clientInfo", "SCAN,sql", "SCAN,clientInfo"})
    void anApplicationNameTheApplicationSetIsTheCallersAgainOnTheNextLending(String identityCheck, String how)
            throws Exception {
        mcf.setIdentityCheck(identityCheck);
        TestCallers.as("alice", () -> {
            try (Connection c = ds().getConnection()) {
                if (how.equals("sql")) {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET application_name = 'mine'");
                    }
                } else {
                    c.setClientInfo("ApplicationName", "mine");
                }
                assertThat(one(c, "select current_setting('application_name')")).isEqualTo("mine");
            }
            return null;
        });
        Shown again = as("alice");
        assertThat(again.inStatement()).isEqualTo("alice");
        assertThat(again.toOthers()).isEqualTo("alice");
        assertThat(mcf.pool().metrics().borrows(Outcome.WARM)).isEqualTo(1);
    }

    /** Two callers mapped to one database user: the name follows the caller, not the role. */
    @Test
    void twoCallersOfOneDatabaseUserEachShowThemselves() throws Exception {
        mcf.setPrincipalMap("carol=alice,dave=alice");
        assertThat(as("carol").inStatement()).isEqualTo("carol");
        assertThat(as("dave").inStatement()).isEqualTo("dave");
        assertThat(as("carol").inStatement()).isEqualTo("carol");
    }

    @Test
    void clientIdentifierFalseLeavesTheApplicationNameAlone() throws Exception {
        mcf.setClientIdentifier("false");
        // pgjdbc sets its ApplicationName with a SET after the login, so the switch's RESET ALL clears it: ''
        assertThat(as("alice").inStatement()).isEqualTo("PostgreSQL JDBC Driver");
        assertThat(as("bob").inStatement()).isEmpty();
        assertThat(as("alice").inStatement()).isEmpty();
    }

    /**
     * The attacker's names, each mapped to alice (the container authenticated them; the database user is safe): each
     * becomes one value, printable ASCII within 63 bytes, exactly what pg_stat_activity shows; nothing of it runs.
     */
    @ParameterizedTest
    @ValueSource(strings = {"x'; DROP TABLE x; --", "x\\'; DROP TABLE x; --", "trailing\\", "$$; DROP TABLE x; $$",
            "semi;colon", "new\nline", "Zoë Ünïcødé", "%41"})
    void anAttackersCallerNameIsOneValueAndRunsNothing(String caller) throws Exception {
        mcf.setPrincipalMap(caller + "=alice");
        Shown shown = as(caller);
        assertThat(shown.inStatement()).isEqualTo(shown.toOthers());
        assertThat(shown.inStatement()).isEqualTo(expected(caller));
        assertThat(db.queryInt("select count(*)::int from pg_class where relname = 'x' and relkind = 'r'")).isEqualTo(1);
    }

    @Test
    void aVeryLongCallerNameIsCutTo63BytesBetweenTwoCharactersAndMarked() throws Exception {
        String caller = "é".repeat(30) + "x".repeat(100);
        mcf.setPrincipalMap(caller + "=alice");
        String shown = as(caller).inStatement();
        // 48 bytes; a 9th would leave no room for the marker, %~ and 8 hex digits of the name's SHA-256
        assertThat(shown).matches("(%C3%A9){8}%~[0-9a-f]{8}");
        assertThat(db.queryInt("select count(*)::int from pg_class where relname = 'x' and relkind = 'r'")).isEqualTo(1);
    }

    /** The encoding, written out independently of proxyra's: printable ASCII but '%' as is, the rest %XX per byte. */
    private static String expected(String caller) {
        StringBuilder out = new StringBuilder();
        for (byte b : caller.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int u = b & 0xff;
            out.append(u >= 0x20 && u <= 0x7e && u != '%' ? String.valueOf((char) u) : String.format("%%%02X", u));
        }
        return out.toString();
    }
}
