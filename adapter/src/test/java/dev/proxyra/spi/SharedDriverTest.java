package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Database;
import dev.proxyra.testing.OwnJvm;
import dev.proxyra.testing.PostgresExtension;

/**
 * The attack on an application that has proxyra's jars on its own class path and starts the resource adapter itself:
 * the bundled pgjdbc is then the application's driver too, and starting or stopping the adapter must leave its
 * DriverManager registration alone. In a JVM of its own ({@link SharedDriverProbe}): in this one, earlier tests
 * registered and deregistered drivers.
 */
@ExtendWith(PostgresExtension.class)
class SharedDriverTest {

    @Test
    void startingAndStoppingTheAdapterLeavesTheApplicationsDriverManagerWorking(Database db) throws Exception {
        List<String> out = OwnJvm.run(SharedDriverProbe.class, db.url());
        assertThat(out).contains("adapter serves alice");
        for (String step : List.of("before", "started", "stopped")) {
            assertThat(out).as("what the application's JDBC got; all lines: %s", out)
                    .contains(step + " DriverManager ok", step + " PGSimpleDataSource ok");
        }
    }
}
