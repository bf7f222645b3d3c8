package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/**
 * The attack on an application's own JDBC: it uses proxyra without a resource adapter and DriverManager with the
 * same pgjdbc. proxyra keeps only a deployed adapter's own drivers out of DriverManager, never the application's.
 */
@ExtendWith(PostgresExtension.class)
class DriverRegistrationTest {

    @Test
    void aFactoryWithoutAResourceAdapterLeavesTheApplicationsDriverRegistered(Database db) throws Exception {
        if (!org.postgresql.Driver.isRegistered()) {
            org.postgresql.Driver.register(); // as the application's JVM has it
        }
        ProxyraManagedConnectionFactory mcf = Factories.on(db).build();
        try {
            TestCallers.set("alice");
            try (Connection c = Factories.dataSource(mcf).getConnection()) {
                assertThat(Sessions.currentUser(c)).isEqualTo("alice");
            }
        } finally {
            TestCallers.set(null);
            mcf.close();
        }
        assertThat(org.postgresql.Driver.isRegistered()).isTrue();
        try (Connection c = DriverManager.getConnection(db.url(), Database.PROXY_USER,
                Database.PROXY_PASSWORD)) {
            assertThat(c.isValid(2)).isTrue();
        }
    }
}
