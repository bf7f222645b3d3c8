package dev.proxyra.it.support;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * How the suites and the demo run Payara Micro: loopback only, no Hazelcast, everything below one
 * directory, proxyra.rar deployed standalone and the pool and JNDI resource created by asadmin
 * commands in the post-boot command file. Payara only WARNs when a boot command fails and starts
 * anyway, so {@link #assertBootSucceeded} reads the log and turns that into a failure.
 */
public final class PayaraSetup {
    /** The rar's application name: {@code --raname} of the pool, {@code resourceAdapter} of annotations. */
    public static final String RAR_NAME = "proxyra";
    public static final String POOL_NAME = "erp-pool";
    public static final String JNDI_NAME = "jdbc/erp";
    /** Payara's max-pool-size for both pools (managed connections, not physical ones: UCP sizes those). */
    public static final int MAX_POOL_SIZE = 16;

    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*m");
    private static final Pattern BOOT_RESULT = Pattern.compile("Boot Command (\\S+) (returned with result|failed) ?(\\S*)");

    private final Path dir;

    public PayaraSetup(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    public Path dir() {
        return dir;
    }

    public Path rootDir() {
        return dir.resolve("root");
    }

    public Path preBootFile() {
        return dir.resolve("pre-boot-commands.txt");
    }

    public Path postBootFile() {
        return dir.resolve("post-boot-commands.txt");
    }

    /** Where {@code --logtofile} points; Payara writes {@code server.log*} files beside it. */
    public Path logFile() {
        return dir.resolve("server.log");
    }

    /**
     * The asadmin commands of the post-boot file, as an administrator would type them. The password is
     * not among the properties: proxyra reads it from MicroProfile Config ({@code PROXYRA_PASSWORD}).
     * <p>
     * {@code UnauthenticatedAccess=METADATA_ONLY}: Payara creates an EntityManager while it deploys the
     * application, and EclipseLink then logs in on a thread with no caller, reading database metadata only. A
     * request without a caller gets such a connection too, and any statement on it is refused (28000).
     * {@code PoolName=erp}: the pool's MBean is {@code dev.proxyra:type=Pool,name=erp}.
     */
    public static List<String> postBootCommands(Path rar, String jdbcUrl) {
        // a small server-side pool and a short wait, so a leaked slot shows up as a fast failure
        String connection = "--connectiondefinition javax.sql.DataSource --transactionsupport LocalTransaction"
                + " --steadypoolsize 0 --maxpoolsize " + MAX_POOL_SIZE + " --maxwait 10000"
                + " --property URL=" + escapeProperty(jdbcUrl) + ":User=app_proxy:UnauthenticatedAccess=METADATA_ONLY"
                + ":PoolName=erp";
        return List.of(
                "deploy --name " + RAR_NAME + " " + rar.toAbsolutePath(),
                "create-connector-connection-pool --raname " + RAR_NAME + " " + connection + " " + POOL_NAME,
                "create-connector-resource --poolname " + POOL_NAME + " " + JNDI_NAME);
    }

    /** asadmin {@code --property} syntax: ':' separates properties, so ':' and '=' in a value are escaped. */
    public static String escapeProperty(String value) {
        return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=");
    }

    /** Writes the command files and empties the root directory and the logs of an earlier run. */
    public void prepare(Path rar, String jdbcUrl) throws IOException {
        prepare(rar, jdbcUrl, List.of());
    }

    /** As {@link #prepare(Path, String)}, with more post-boot commands after proxyra's. */
    public void prepare(Path rar, String jdbcUrl, List<String> morePostBootCommands) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(preBootFile(),
                "set configs.config.server-config.network-config.network-listeners.network-listener.http-listener.address=127.0.0.1\n");
        List<String> postBoot = new ArrayList<>(postBootCommands(rar, jdbcUrl));
        postBoot.addAll(morePostBootCommands);
        Files.writeString(postBootFile(), String.join("\n", postBoot) + "\n");
        deleteTree(dir.resolve("logs"));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("server.log")).toList()) {
                Files.delete(p);
            }
        }
        reset();
    }

    /**
     * A fresh root directory and log before each boot (Payara writes its config back to the root dir);
     * the previous boot's log moves to {@code logs/boot-N/}.
     */
    public void reset() throws IOException {
        deleteTree(rootDir());
        List<Path> logs;
        try (Stream<Path> files = Files.list(dir)) {
            logs = files.filter(p -> p.getFileName().toString().startsWith("server.log")).toList();
        }
        if (!logs.isEmpty()) {
            Path archive = dir.resolve("logs").resolve("boot-" + (++boots));
            Files.createDirectories(archive);
            for (Path p : logs) {
                Files.move(p, archive.resolve(p.getFileName()));
            }
        }
    }

    private int boots;

    /** Payara Micro options shared by the suites (arquillian.xml) and the demo. */
    public List<String> microOptions() {
        return List.of("--nohazelcast",
                "--rootdir", rootDir().toString(),
                "--prebootcommandfile", preBootFile().toString(),
                "--postbootcommandfile", postBootFile().toString(),
                "--logtofile", logFile().toString());
    }

    /** Everything Payara logged since the last {@link #reset()}, without colour codes. */
    public String log() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("server.log")
                    && !p.getFileName().toString().endsWith(".lck")).sorted(Comparator.reverseOrder()).toList()) {
                all.append(Files.readString(p));
            }
        }
        return ANSI.matcher(all).replaceAll("");
    }

    /** Fails unless every post-boot command reported SUCCESS in the log. */
    public void assertBootSucceeded() throws IOException {
        String log = log();
        List<String> expected = new ArrayList<>();
        for (String line : Files.readAllLines(postBootFile())) {
            if (!line.isBlank() && !line.startsWith("#")) {
                expected.add(line.trim().split("\\s+")[0]);
            }
        }
        List<String> succeeded = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Matcher m = BOOT_RESULT.matcher(log);
        while (m.find()) {
            if (m.group(2).equals("failed") || !m.group(3).startsWith("SUCCESS")) {
                int end = log.indexOf('\n', m.end());
                problems.add(log.substring(m.start(), end < 0 ? log.length() : end).trim());
            } else {
                succeeded.add(m.group(1));
            }
        }
        for (String command : expected) {
            if (!succeeded.remove(command)) {
                problems.add("no SUCCESS logged for post-boot command '" + command + "'");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Payara Micro boot commands failed (" + postBootFile() + "):\n  "
                    + String.join("\n  ", problems));
        }
    }

    /** Fails unless Payara logged that the application deployed (a failed war deployment is only logged too). */
    public void assertDeployed(String application) throws IOException {
        String log = log();
        if (!log.contains(application + " was successfully deployed")) {
            int error = log.indexOf("Exception while loading the app");
            throw new IllegalStateException("Payara Micro did not deploy " + application
                    + (error < 0 ? "" : ": " + log.substring(error, Math.min(log.length(), error + 2000))));
        }
    }

    /** The Payara Micro jar on this JVM's class path (the test-scoped dependency). */
    public static Path microJar() {
        URL url = PayaraSetup.class.getClassLoader().getResource("fish/payara/micro/PayaraMicro.class");
        if (url == null || !"jar".equals(url.getProtocol())) {
            throw new IllegalStateException("fish.payara.extras:payara-micro is not on the class path");
        }
        String path = url.getPath();
        try {
            return Path.of(new URL(path.substring(0, path.indexOf("!/"))).toURI());
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot locate the Payara Micro jar from " + url, e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
