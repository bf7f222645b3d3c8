package dev.proxyra.it.servers;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * WildFly 39 as its users run it: {@code standalone.xml} (EE, EJB, JPA, Jakarta Security, MicroProfile Config and
 * Health), users added with add-user.sh, everything else configured with jboss-cli against the running server:
 * proxyra.rar deployed, the resource adapter and its connection definition added and activated (no restart), the
 * applications deployed. The server's own directories stay pristine: this instance lives in its own base directory.
 */
public final class WildFlyServer implements DemoServer {
    public static final String VERSION = System.getProperty("wildfly.version", "39.0.1.Final");
    private static final int[] BASE_PORTS = {8080, 8443, 9990, 9993, 4712, 4713};

    private final ServerEnvironment env;
    private final Path home;
    private final Path base;
    private int offset;
    private Process process;

    public WildFlyServer(ServerEnvironment env) {
        this.env = env;
        this.home = env.distributions().resolve("wildfly-" + VERSION);
        this.base = env.work().resolve("standalone");
    }

    @Override
    public String name() {
        return "WildFly " + VERSION;
    }

    @Override
    public URI root() {
        return URI.create("http://127.0.0.1:" + (8080 + offset) + "/");
    }

    /** The management console and API. */
    public URI management() {
        return URI.create("http://127.0.0.1:" + (9990 + offset) + "/");
    }

    @Override
    public String anonymousName() {
        return "anonymous";
    }

    @Override
    public List<String> connectionErrorMarkers() {
        return List.of("IJ000305", "IJ000604", "IJ000612", "connectionErrorOccurred");
    }

    private Path logFile() {
        return base.resolve("log/server.log");
    }

    @Override
    public String log() throws IOException {
        return Files.exists(logFile()) ? Files.readString(logFile(), StandardCharsets.ISO_8859_1) : "";
    }

    /** The server with the users, not yet configured for proxyra: what the console test starts from. */
    public void startBare() throws Exception {
        ServerProcess.deleteTree(base);
        ServerProcess.copyTree(home.resolve("standalone"), base);
        // Narayana's recovery listener, so that a test can ask for a recovery pass (recoverNow); the transactions
        // subsystem's attributes need a restart when written with jboss-cli, so they are set before the first start
        Path standaloneXml = base.resolve("configuration/standalone.xml");
        String xml = Files.readString(standaloneXml);
        String recovery = "<recovery-environment socket-binding=\"txn-recovery-environment\"";
        if (!xml.contains(recovery)) {
            throw new IllegalStateException("no " + recovery + " in " + standaloneXml);
        }
        Files.writeString(standaloneXml, xml.replace(recovery, recovery + " recovery-listener=\"true\""));
        offset = freeOffset();
        for (String[] user : TestWars.USERS) {
            addUser("-a", "-u", user[0], "-p", user[1], "-g", "user");
        }
        addUser("-u", "admin", "-p", ADMIN_PASSWORD);
        launch();
        awaitBoots(1);
    }

    private void launch() throws IOException {
        Map<String, String> environment = new HashMap<>(env.processEnvironment());
        environment.put("LAUNCH_JBOSS_IN_BACKGROUND", "1");
        process = ServerProcess.start(env.work(), environment, env.work().resolve("console.log"), List.of(
                script("standalone"), "-c", "standalone.xml", "-b", "127.0.0.1", "-bmanagement", "127.0.0.1",
                "-Djboss.socket.binding.port-offset=" + offset, "-Djboss.server.base.dir=" + base,
                "-Djboss.tx.node.id=proxyra-it")); // a node identifier of its own, as the transactions page asks
    }

    @Override
    public void crash() throws Exception {
        ServerProcess.kill(process);
    }

    /** standalone.sh again on the same base directory: standalone.xml as jboss-cli left it, data/tx-object-store. */
    @Override
    public void restartAfterCrash() throws Exception {
        int boots = ServerProcess.count(logFile(), "WFLYSRV0025") + ServerProcess.count(logFile(), "WFLYSRV0026");
        launch();
        awaitBoots(boots + 1);
        ServerProcess.await(name() + " answering on " + xa(), Duration.ofSeconds(120), base.resolve("log"),
                () -> ServerProcess.deployed(xa().resolve("xa/commit")));
    }

    /**
     * One synchronous pass of Narayana's periodic recovery (both of its phases), asked for on its recovery listener
     * ({@code recovery-listener=true}, socket binding txn-recovery-environment): "SCAN", answered "DONE".
     */
    @Override
    public void recoverNow() throws IOException {
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), 4712 + offset)) {
            s.setSoTimeout(180_000);
            s.getOutputStream().write("SCAN\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String answer = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            if (!"DONE".equals(answer)) {
                throw new IOException("Narayana's recovery listener answered " + answer + " to SCAN");
            }
        }
    }

    /** The management user of the console test. */
    public static final String ADMIN_PASSWORD = "Console#2026";

    @Override
    public void start() throws Exception {
        startBare();
        // jboss-cli against the running server, as the WildFly guide shows; the reload makes integrated-jaspi=false
        // take effect, which an application with its own Jakarta Security identity store needs
        Path cli = env.work().resolve("configure.cli");
        Files.writeString(cli, configureCli(env.rar().toString(), env.jdbcUrl()) + XaPools.wildflyCli(env::xaUrl)
                + NativeXaDataSource.wildflyCli(NativeXaDataSource.driverJar(), env.databasePort()) + "deploy "
                + env.demoWar() + "\ndeploy " + env.plainWar() + "\ndeploy " + env.ejbWar() + "\ndeploy " + env.xaWar()
                + "\n:reload\n");
        cli("--file=" + cli);
        awaitBoots(2);
        ServerProcess.await(name() + " answering on " + demo(), Duration.ofSeconds(120), base.resolve("log"),
                () -> ServerProcess.status(demo().resolve("public/whoami")) > 0
                        && ServerProcess.status(plain().resolve("public/whoami")) > 0);
    }

    /** The jboss-cli commands of docs/servers/wildfly.md (checked by GuidesTest), for a rar file and a JDBC URL. */
    static String configureCli(String rar, String jdbcUrl) {
        return serverCli() + proxyraCli(rar, jdbcUrl);
    }

    /**
     * What the applications of the suites need from the server, not proxyra: applications with their own Jakarta
     * Security identity store need integrated-jaspi=false; MicroProfile Health serves the demo's readiness check.
     */
    static String serverCli() {
        return """
                /subsystem=undertow/application-security-domain=other:write-attribute(name=integrated-jaspi, value=false)
                /extension=org.wildfly.extension.microprofile.health-smallrye:add
                /subsystem=microprofile-health-smallrye:add(security-enabled=false)
                """;
    }

    /** proxyra.rar deployed, its resource adapter and connection definition added and activated. */
    static String proxyraCli(String rar, String jdbcUrl) {
        return """
                deploy %s
                batch
                /subsystem=resource-adapters/resource-adapter=proxyra.rar:add(archive=proxyra.rar, transaction-support=LocalTransaction)
                /subsystem=resource-adapters/resource-adapter=proxyra.rar/connection-definitions=erp:add(class-name=dev.proxyra.spi.ProxyraManagedConnectionFactory, jndi-name=java:/jdbc/erp)
                /subsystem=resource-adapters/resource-adapter=proxyra.rar/connection-definitions=erp/config-properties=URL:add(value="%s")
                /subsystem=resource-adapters/resource-adapter=proxyra.rar/connection-definitions=erp/config-properties=User:add(value=app_proxy)
                /subsystem=resource-adapters/resource-adapter=proxyra.rar/connection-definitions=erp/config-properties=UnauthenticatedAccess:add(value=METADATA_ONLY)
                /subsystem=resource-adapters/resource-adapter=proxyra.rar/connection-definitions=erp/config-properties=PoolName:add(value=erp)
                run-batch
                /subsystem=resource-adapters/resource-adapter=proxyra.rar:activate
                """.formatted(rar, jdbcUrl);
    }

    /** The undeploy commands of docs/servers/wildfly.md (checked by GuidesTest). */
    static String undeployCli() {
        return """
                undeploy demo.war
                undeploy plain.war
                undeploy ejb.war
                /subsystem=resource-adapters/resource-adapter=proxyra.rar:remove
                undeploy proxyra.rar
                """;
    }

    /** Undeploys everything as the guide says; returns when the adapter reported that it stopped. */
    public void undeploy() throws Exception {
        Path cli = env.work().resolve("undeploy.cli");
        Files.writeString(cli, XaPools.wildflyUndeployCli() + undeployCli());
        cli("--file=" + cli);
        ServerProcess.await(name() + " stopping proxyra", Duration.ofMinutes(2), logFile().getParent(),
                () -> ServerProcess.fileContains(logFile(), "proxyra: resource adapter stopped"));
    }

    /**
     * The server configured for the applications of the suites (serverCli, then the reload it needs) but without
     * proxyra or any application: where the redeploy test starts.
     */
    public void startForApplications() throws Exception {
        startBare();
        Path cli = env.work().resolve("server.cli");
        Files.writeString(cli, serverCli() + ":reload\n");
        cli("--file=" + cli);
        awaitBoots(2);
    }

    /** proxyra as the guide deploys it, then demo.war and plain.war; returns when both answer. */
    public void deployProxyraDemoAndPlain() throws Exception {
        Path cli = env.work().resolve("deploy.cli");
        Files.writeString(cli, proxyraCli(env.rar().toString(), env.jdbcUrl()) + "deploy " + env.demoWar() + "\ndeploy "
                + env.plainWar() + "\n");
        cli("--file=" + cli);
        ServerProcess.await(name() + " answering on " + demo(), Duration.ofSeconds(120), base.resolve("log"),
                () -> ServerProcess.deployed(demo().resolve("public/whoami"))
                        && ServerProcess.deployed(plain().resolve("public/whoami")));
    }

    /** The guide's undeploy commands for demo.war, plain.war and proxyra; returns when the adapter stopped. */
    public void undeployProxyraDemoAndPlain() throws Exception {
        int stopsBefore = ServerProcess.count(logFile(), "proxyra: resource adapter stopped");
        Path cli = env.work().resolve("undeploy.cli");
        Files.writeString(cli, undeployCli().replace("undeploy ejb.war\n", ""));
        cli("--file=" + cli);
        ServerProcess.await(name() + " stopping proxyra", Duration.ofMinutes(2), logFile().getParent(),
                () -> ServerProcess.count(logFile(), "proxyra: resource adapter stopped") > stopsBefore);
    }

    /** The server's JVM (standalone.sh runs it as its child), for jcmd. */
    public long pid() {
        return ServerProcess.javaPid(process);
    }

    /** Runs jboss-cli connected to this server with the given arguments; returns its output. */
    public String cli(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(script("jboss-cli"), "--connect",
                "--controller=127.0.0.1:" + (9990 + offset)));
        command.addAll(List.of(arguments));
        return ServerProcess.run(env.work(), Map.of("JAVA_HOME", System.getProperty("java.home")),
                Duration.ofMinutes(5), command);
    }

    private void addUser(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(script("add-user"), "-sc", base.resolve("configuration").toString()));
        command.addAll(List.of(arguments));
        ServerProcess.run(env.work(), Map.of("JAVA_HOME", System.getProperty("java.home")), Duration.ofMinutes(2), command);
    }

    /** How many times the server has said it started so far: its boot, and each reload since. */
    public int starts() throws IOException {
        return ServerProcess.count(logFile(), "WFLYSRV0025") + ServerProcess.count(logFile(), "WFLYSRV0026");
    }

    /** Waits until the server has said it started {@code n} times (a reload says it again); fails on errors. */
    public void awaitStarts(int n) throws Exception {
        awaitBoots(n);
    }

    /** Waits for the n-th "started" line (WFLYSRV0025, or WFLYSRV0026 "with errors", which fails the run). */
    private void awaitBoots(int n) throws Exception {
        Path log = logFile();
        ServerProcess.await(name() + " boot " + n, Duration.ofMinutes(4), log.getParent(), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name() + " exited with " + process.exitValue() + "; see " + log);
            }
            return ServerProcess.count(log, "WFLYSRV0025") + ServerProcess.count(log, "WFLYSRV0026") >= n;
        });
        if (ServerProcess.count(log, "WFLYSRV0026") > 0) {
            throw new IllegalStateException(name() + " started with errors; see " + log);
        }
    }

    private String script(String name) {
        return home.resolve("bin").resolve(name + ".sh").toString();
    }

    private static int freeOffset() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int candidate = ThreadLocalRandom.current().nextInt(10_000, 40_000);
            boolean free = true;
            for (int p : BASE_PORTS) {
                free &= ServerProcess.free(p + candidate);
            }
            if (free) {
                return candidate;
            }
        }
        throw new IllegalStateException("no free port offset for WildFly");
    }

    @Override
    public void close() throws Exception {
        if (process == null) {
            return;
        }
        try {
            if (process.isAlive()) {
                cli(":shutdown");
            }
        } catch (IOException e) {
            // the process is stopped below in any case
        }
        ServerProcess.stop(process, Duration.ofSeconds(60));
        process = null;
    }
}
