package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.testing.EmbeddedDatabase;
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
    void undeployingDefinesNoClassOfProxyraUcpPgjdbcOrHdrHistogram(EmbeddedDatabase db) throws Exception {
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
    void theProbeSeesTheClassesThatStartingTheAdapterDefines(EmbeddedDatabase db) throws Exception {
        // a blind recording would pass the test above whatever stopping loads
        List<String> out = probe(db.url(), "control");
        assertThat(out).contains("PROBE-DONE").contains("LOADED-AT-STOP dev.proxyra.pool.IdentityPool")
                .anyMatch(l -> l.startsWith("LOADED-AT-STOP oracle.ucp."))
                .anyMatch(l -> l.startsWith("LOADED-AT-STOP org.postgresql."));
    }

    /** The probe's standard output; fails with its standard error if it does not end well within two minutes. */
    private static List<String> probe(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StopClassLoadProbe.class.getName()));
        command.addAll(List.of(args));
        Path out = java.nio.file.Files.createTempFile("proxyra-stop-probe", ".out");
        Path err = java.nio.file.Files.createTempFile("proxyra-stop-probe", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean ended = p.waitFor(2, TimeUnit.MINUTES);
            if (!ended) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            String stderr = java.nio.file.Files.readString(err, StandardCharsets.UTF_8);
            assertThat(ended).as("the probe ended within two minutes; its standard error:%n%s", stderr).isTrue();
            assertThat(p.exitValue()).as("the probe's exit status; its standard error:%n%s", stderr).isZero();
            return java.nio.file.Files.readAllLines(out, StandardCharsets.UTF_8);
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }
}
