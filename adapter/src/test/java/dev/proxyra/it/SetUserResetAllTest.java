package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.proxyra.jdbc.ProxyraDataSource;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.SetUserDatabaseExtension;
import dev.proxyra.testing.TestCallers;

/**
 * What RoleSwitch=SET_USER costs in availability: set_user 4.0.1 dereferences the variable name of every SET/RESET
 * while a session is switched, and RESET ALL has none. The backend dies of a segmentation fault, and PostgreSQL
 * then ends every session of the server to recover. Any caller can do it, also from a DO block; proxyra cannot
 * stop it. (Under SET_ROLE, RESET ALL is harmless: {@link SwitchModeEscapeTest}.)
 */
@ExtendWith(SetUserDatabaseExtension.class)
class SetUserResetAllTest {
    private ProxyraManagedConnectionFactory mcf;

    @AfterEach
    void tearDown() {
        TestCallers.set(null);
        if (mcf != null) {
            mcf.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"RESET ALL", "DO $$ BEGIN EXECUTE 'RESET ' || 'ALL'; END $$"})
    void resetAllWhileSwitchedEndsEverySessionOfTheServer(String sql, Database db) throws Exception {
        mcf = Factories.on(db).maxPoolSize(1).roleSwitch("SET_USER").build();
        ProxyraDataSource ds = Factories.dataSource(mcf);
        int crashesBefore = crashes(db);
        try (Connection bystander = db.superuser(); Statement b = bystander.createStatement()) {
            b.execute("select 1");
            TestCallers.set("alice");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute(sql)).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).startsWith("08"));
            }
            // the server ends the other backends once it has noticed the crash: asynchronously to this client
            assertThat(endsWithin(b, Duration.ofSeconds(30))).as("a session of another user, on another backend")
                    .isTrue();
        }
        assertThat(crashes(db)).isEqualTo(crashesBefore + 1);
        awaitRecovery(db, Duration.ofSeconds(60));
        // proxyra's pool recovers: the dead session is replaced
        TestCallers.set("bob");
        try (Connection c = ds.getConnection()) {
            assertThat(Sessions.whoami(c)).containsExactly("bob", "app_proxy");
        }
    }

    private static boolean endsWithin(Statement session, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                session.execute("select 1");
            } catch (SQLException ended) {
                return true;
            }
        }
        return false;
    }

    private static int crashes(Database db) throws Exception {
        return db.serverLog().split("was terminated by signal 11", -1).length - 1;
    }

    /** Until the server accepts connections again after its crash recovery: it answers each attempt at once. */
    private static void awaitRecovery(Database db, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Connection c = db.superuser(); Statement s = c.createStatement()) {
                s.execute("select 1");
                return;
            } catch (SQLException starting) {
                if (System.nanoTime() > deadline) {
                    throw starting;
                }
            }
        }
    }
}
