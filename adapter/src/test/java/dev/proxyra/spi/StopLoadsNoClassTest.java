package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.Database;
import dev.proxyra.testing.OwnJvm;
import dev.proxyra.testing.PostgresExtension;

/**
 * Stopping the adapter reads no class of its own archive that it had not read before: Open Liberty may delete its
 * extracted copy of the rar before it stops the adapter, and UCP then failed to close the pool because it could not
 * load a class it had never needed until then. A JVM of its own ({@link StopClassLoadProbe}), because a class some
 * earlier test loaded in this one would hide the gap.
 */
@ExtendWith(PostgresExtension.class)
class StopLoadsNoClassTest {

    @Test
    void undeployingDefinesNoClassOfProxyraUcpPgjdbcOrHdrHistogram(Database db) throws Exception {
        List<String> out = probe(db.url());
        assertThat(out).as("the probe ran to its end").contains("PROBE-DONE");
        // ojdbc is left out: the Oracle driver's deregistration may initialise it, and a failure there is caught (the
        // driver cannot be registered if its class could not even be loaded)
        assertThat(out).filteredOn(l -> l.startsWith("LOADED-AT-STOP "))
                .map(l -> l.substring("LOADED-AT-STOP ".length()))
                .filteredOn(n -> n.startsWith("dev.proxyra.") || n.startsWith("oracle.ucp.") || n.startsWith("org.postgresql.")
                        || n.startsWith("org.HdrHistogram."))
                .isEmpty();
    }

    @Test
    void theProbeSeesTheClassesThatStartingTheAdapterDefines(Database db) throws Exception {
        // a blind recording would pass the test above whatever stopping loads
        List<String> out = probe(db.url(), "control");
        assertThat(out).contains("PROBE-DONE").contains("LOADED-AT-STOP dev.proxyra.pool.IdentityPool")
                .anyMatch(l -> l.startsWith("LOADED-AT-STOP oracle.ucp."))
                .anyMatch(l -> l.startsWith("LOADED-AT-STOP org.postgresql."));
    }

    private static List<String> probe(String... args) throws IOException, InterruptedException {
        return OwnJvm.run(StopClassLoadProbe.class, args);
    }
}
