package dev.proxyra.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The classes a server's JVM has loaded, as the JDK's jcmd reports them: how many class loaders hold a class after
 * full collections (with -XX:SoftRefLRUPolicyMSPerMB=0 on the server, soft references are cleared too), and the
 * heap dump whoever investigates a leak starts from.
 */
public final class LoadedClasses {
    private LoadedClasses() {
    }

    /** A few full collections, then every loaded class with its loader (jcmd VM.class_hierarchy). */
    public static String afterFullCollections(long pid) throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            jcmd(pid, "GC.run");
        }
        return jcmd(pid, "VM.class_hierarchy");
    }

    /** How many class loaders hold a class named {@code className} in a VM.class_hierarchy listing. */
    public static long copies(String classHierarchy, String className) {
        return classHierarchy.lines().filter(l -> l.contains(className + "/")).count();
    }

    /** Writes the heap of {@code pid} (live objects) to {@code dump}, replacing an earlier one. */
    public static void heapDump(long pid, Path dump) throws IOException, InterruptedException {
        java.nio.file.Files.deleteIfExists(dump);
        jcmd(pid, "GC.heap_dump", dump.toAbsolutePath().toString());
    }

    public static String jcmd(long pid, String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd")
                .toString(), Long.toString(pid)));
        line.addAll(List.of(command));
        Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("jcmd " + String.join(" ", command) + ": " + out).isZero();
        return out;
    }
}
