package dev.proxyra.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a class's {@code main} in a JVM of its own, with this JVM's class path (so under the JVM's application class
 * loader, as a Java SE program would): for what must be proven on a JVM in which no earlier test loaded, registered
 * or deregistered anything.
 */
public final class OwnJvm {
    private OwnJvm() {
    }

    /** Its standard output; fails with its standard error if it does not end well within two minutes. */
    public static List<String> run(Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("proxyra-own-jvm", ".out");
        Path err = Files.createTempFile("proxyra-own-jvm", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean ended = p.waitFor(2, TimeUnit.MINUTES);
            if (!ended) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            assertThat(ended).as("%s ended within two minutes; its standard error:%n%s", main.getSimpleName(), stderr)
                    .isTrue();
            assertThat(p.exitValue()).as("the exit status of %s; its standard error:%n%s", main.getSimpleName(), stderr)
                    .isZero();
            return Files.readAllLines(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
