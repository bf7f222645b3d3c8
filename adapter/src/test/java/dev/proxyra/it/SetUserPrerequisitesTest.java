package dev.proxyra.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/** RoleSwitch=SET_USER on a database without the extension: refused at first use, never SET ROLE instead. */
@ExtendWith(PostgresExtension.class)
class SetUserPrerequisitesTest {

    @Test
    void aPoolInSetUserModeWithoutTheExtensionRefusesEveryCallerNamingTheProperty(Database db)
            throws Exception {
        ProxyraManagedConnectionFactory mcf = Factories.on(db).roleSwitch("SET_USER").build();
        try {
            var ds = Factories.dataSource(mcf);
            for (String caller : new String[] {"alice", "bob"}) {
                TestCallers.set(caller);
                assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> assertThat(
                        e.getMessage()).contains("RoleSwitch=SET_USER cannot be used", "CREATE EXTENSION set_user",
                        "allowed values SET_ROLE, SET_USER"));
            }
            assertThat(mcf.pool().lentOut()).isZero();
            // the same database serves the same callers with SET ROLE
            mcf.setRoleSwitch("SET_ROLE");
            TestCallers.set("alice");
            try (Connection c = Factories.dataSource(mcf).getConnection()) {
                assertThat(Sessions.currentUser(c)).isEqualTo("alice");
            }
        } finally {
            TestCallers.set(null);
            mcf.close();
        }
    }
}
