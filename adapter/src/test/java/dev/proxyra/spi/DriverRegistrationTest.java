package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Adapters;
import dev.proxyra.testing.EmbeddedDatabase;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.TestCallers;

/**
 * The attack on an application's own JDBC: it uses proxyra without a resource adapter and DriverManager with the
 * same pgjdbc. proxyra keeps only a deployed adapter's own drivers out of DriverManager, never the application's.
 */
@ExtendWith(PostgresExtension.class)
class DriverRegistrationTest {

    @Test
    void aFactoryWithoutAResourceAdapterLeavesTheApplicationsDriverRegistered(EmbeddedDatabase db) throws Exception {
        if (!org.postgresql.Driver.isRegistered()) {
            org.postgresql.Driver.register(); // as the application's JVM has it
        }
        ProxyraManagedConnectionFactory mcf = Adapters.factory(db);
        try {
            TestCallers.set("alice");
            try (Connection c = Adapters.dataSource(mcf).getConnection()) {
                assertThat(Adapters.currentUser(c)).isEqualTo("alice");
            }
        } finally {
            TestCallers.set(null);
            mcf.close();
        }
        assertThat(org.postgresql.Driver.isRegistered()).isTrue();
        try (Connection c = DriverManager.getConnection(db.url(), EmbeddedDatabase.PROXY_USER,
                EmbeddedDatabase.PROXY_PASSWORD)) {
            assertThat(c.isValid(2)).isTrue();
        }
    }
}
