package dev.proxyra.it.demo;

import dev.proxyra.demo.DemoUsers;
import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.ItDatabase;
import dev.proxyra.it.support.PayaraSetup;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The demo: an embedded PostgreSQL 17 with the demo data, Payara Micro (loopback only, no Hazelcast)
 * with proxyra.rar, the pools created by asadmin commands, and demo.war (the archive the suites test).
 * Prints what to try, then runs until Ctrl-C (or until Payara stops), and stops the server and the
 * database on the way out.
 *
 * <p>Run through Maven: {@code ./mvnw -Pdemo -DskipTests -pl integration-tests -am verify}. System properties: {@code proxyra.rar},
 * {@code proxyra.war}, {@code proxyra.sql.dir}, {@code demo.work} (set by the pom), {@code demo.port}
 * (default 8080).
 */
public final class DemoLauncher {
    private static final PrintStream OUT = System.out;

    private final Path work;
    private final int port;
    private ItDatabase database;
    private Process payara;
    private boolean stopped;

    private DemoLauncher(Path work, int port) {
        this.work = work;
        this.port = port;
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(required("demo.work")).toAbsolutePath();
        int port = Integer.parseInt(System.getProperty("demo.port", "8080"));
        DemoLauncher demo = new DemoLauncher(work, port);
        Runtime.getRuntime().addShutdownHook(new Thread(demo::stop, "proxyra-demo-stop"));
        try {
            demo.start();
            int exit = demo.payara.waitFor();
            // 130/143: stopped by Ctrl-C (SIGINT reaches the whole foreground process group) or SIGTERM
            if (exit != 0 && exit != 130 && exit != 143) {
                throw new IllegalStateException("Payara Micro exited unexpectedly with status " + exit
                        + "; see " + work.resolve("payara"));
            }
        } finally {
            demo.stop();
        }
    }

    private void start() throws Exception {
        Path rar = Path.of(required("proxyra.rar"));
        Path war = Path.of(required("proxyra.war"));
        Path sql = Path.of(required("proxyra.sql.dir")).toAbsolutePath().normalize();
        assertPortFree(port);
        Files.createDirectories(work.resolve("tmp"));

        // A fresh random proxy password each run: it goes to the database and, as environment
        // variables (MicroProfile Config), to Payara. It is never printed or written to a file.
        byte[] secret = new byte[18];
        new SecureRandom().nextBytes(secret);
        String proxyPassword = HexFormat.of().formatHex(secret);

        OUT.println("[demo] starting PostgreSQL 17 (embedded) ...");
        database = ItDatabase.start(work.resolve("db"), 0, proxyPassword, sql, true, false);
        OUT.println("[demo] PostgreSQL on 127.0.0.1:" + database.port() + ", seeded with " + sql.resolve("postgresql-setup.sql")
                + " and the demo rows");

        PayaraSetup setup = new PayaraSetup(work.resolve("payara"));
        setup.prepare(rar, database.url());
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-Djava.io.tmpdir=" + work.resolve("tmp"),
                "-jar", PayaraSetup.microJar().toString()));
        command.addAll(setup.microOptions());
        command.addAll(List.of("--port", Integer.toString(port), "--deploy", war.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("PROXYRA_PASSWORD", proxyPassword);
        env.put("ANNOTATED_PASSWORD", proxyPassword);
        env.put("ANNOTATED_URL", database.url());

        Path console = setup.dir().resolve("console.log");
        OUT.println("[demo] starting Payara Micro with proxyra.rar and demo.war (log: " + console + ") ...");
        payara = pb.start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread pump = new Thread(() -> pump(payara, console, ready), "payara-output");
        pump.setDaemon(true);
        pump.start();
        try {
            ready.get(240, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Payara Micro did not start within 240 s; see " + console);
        }
        setup.assertBootSucceeded();
        setup.assertDeployed("demo");

        // prove the demo works before announcing it
        DemoClient client = new DemoClient(URI.create("http://127.0.0.1:" + port + "/demo/"));
        DemoClient.Reply alice = client.get("whoami", "alice").expect(200);
        if (!"alice".equals(alice.text("databaseUser"))) {
            throw new IllegalStateException("self-check failed: " + alice);
        }
        banner();
    }

    /** Copies Payara's output to console.log and completes {@code ready} once it reports being up. */
    private static void pump(Process p, Path console, CompletableFuture<Void> ready) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer log = Files.newBufferedWriter(console)) {
            for (String line; (line = in.readLine()) != null; ) {
                log.write(line);
                log.write('\n');
                if (!ready.isDone() && line.contains("Payara Micro") && line.contains(" ready in ")) {
                    log.flush();
                    ready.complete(null);
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(e);
        }
        ready.completeExceptionally(new IllegalStateException("Payara Micro exited during start-up; see " + console));
    }

    private void banner() {
        String base = "http://127.0.0.1:" + port + "/demo";
        String alice = "-u alice:" + DemoUsers.USERS.get("alice");
        String bob = "-u bob:" + DemoUsers.USERS.get("bob");
        String carol = "-u carol:" + DemoUsers.USERS.get("carol");
        List<String[]> tries = List.of(
                new String[] {"curl " + alice + " " + base + "/whoami", "alice: current_user, session_user, her rows"},
                new String[] {"curl " + bob + " " + base + "/whoami", "bob: the same for bob"},
                new String[] {"curl " + alice + " -d item=stapler " + base + "/orders", "add a row as alice"},
                new String[] {"curl " + bob + " " + base + "/orders", "bob does not see it"},
                new String[] {"curl " + carol + " " + base + "/whoami", "signed in, no database role: 403"},
                new String[] {"curl " + base + "/public/whoami", "anonymous: 403, proxyra refuses"},
                new String[] {"curl " + alice + " -d item=desk " + base + "/jpa/orders", "JPA persist as alice"},
                new String[] {"curl " + alice + " -d item=chair " + base + "/tx/rollback", "UserTransaction, rolled back"},
                new String[] {"curl " + bob + " " + base + "/tx/session", "one transaction, one session"},
                new String[] {"curl " + bob + " " + base + "/annotated/whoami", "pool from @ConnectionFactoryDefinition"});
        int width = tries.stream().mapToInt(t -> t[0].length()).max().orElse(0);
        String rule = "=".repeat(Math.min(100, width + 36));
        OUT.println();
        OUT.println(rule);
        OUT.println(" proxyra demo: Payara Micro on " + base + " with proxyra.rar, PostgreSQL 17 on 127.0.0.1:"
                + database.port());
        OUT.println(" Each request's connection logs in as app_proxy and runs as the web caller (SET ROLE).");
        OUT.println(rule);
        for (String[] t : tries) {
            OUT.printf("   %-" + width + "s   # %s%n", t[0], t[1]);
        }
        OUT.println();
        OUT.println(" Database: psql -h 127.0.0.1 -p " + database.port() + " -U postgres postgres   (superuser)");
        OUT.println(" Server log: " + work.resolve("payara") + "/server.log*");
        OUT.println(" Ctrl-C stops Payara Micro and PostgreSQL.");
        OUT.println(rule);
        OUT.flush();
    }

    /** Stops Payara Micro, then PostgreSQL; idempotent (main thread and shutdown hook both call it). */
    private synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (payara != null && payara.isAlive()) {
            OUT.println("[demo] stopping Payara Micro ...");
            payara.destroy();
            try {
                if (!payara.waitFor(60, TimeUnit.SECONDS)) {
                    payara.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                payara.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (database != null) {
            OUT.println("[demo] stopping PostgreSQL ...");
            try {
                database.close();
            } catch (IOException e) {
                OUT.println("[demo] stopping PostgreSQL failed: " + e);
            }
        }
        OUT.println("[demo] stopped.");
        OUT.flush();
    }

    private static void assertPortFree(int port) throws IOException {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
        } catch (IOException e) {
            throw new IOException("port " + port + " on 127.0.0.1 is in use; run with -Ddemo.port=<free port>", e);
        }
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        if (v == null) {
            throw new IllegalStateException("system property " + property + " is not set (run through ./mvnw -Pdemo)");
        }
        return v;
    }
}
