package dev.proxyra.it.servers;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Open Liberty as its users run it: {@code server create}, a {@code server.xml} naming the features, the resource
 * adapter, its connection factory and the applications, {@code server run}. The server lives in its own user
 * directory (WLP_USER_DIR), so the unpacked runtime stays pristine.
 */
public final class OpenLibertyServer implements DemoServer {
    public static final String VERSION = System.getProperty("openliberty.version", "26.0.0.3");
    private static final String SERVER = "proxyra";

    private final ServerEnvironment env;
    private final Path wlp;
    private final Path userDir;
    private final Path serverDir;
    private final int httpPort;
    private final int httpsPort;
    private Process process;

    public OpenLibertyServer(ServerEnvironment env) {
        this.env = env;
        this.wlp = env.distributions().resolve("wlp");
        this.userDir = env.work().resolve("usr");
        this.serverDir = userDir.resolve("servers").resolve(SERVER);
        try {
            this.httpPort = ServerProcess.freePort();
            this.httpsPort = ServerProcess.freePort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public String name() {
        return "Open Liberty " + VERSION;
    }

    @Override
    public URI root() {
        return URI.create("http://127.0.0.1:" + httpPort + "/");
    }

    @Override
    public String anonymousName() {
        return "UNAUTHENTICATED";
    }

    @Override
    public List<String> connectionErrorMarkers() {
        return List.of("J2CA0021E", "J2CA0056I", "J2CA0081E", "connectionErrorOccurred");
    }

    /** messages.log and every FFDC report: what an operator's log collection, or support, gets. */
    @Override
    public String log() throws IOException {
        StringBuilder all = new StringBuilder();
        Path logs = serverDir.resolve("logs");
        if (Files.exists(logs)) {
            try (Stream<Path> files = Files.walk(logs)) {
                for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                    all.append("==> ").append(logs.relativize(p)).append('\n')
                            .append(Files.readString(p, StandardCharsets.ISO_8859_1)).append('\n');
                }
            }
        }
        return all.toString();
    }

    private Map<String, String> environment() {
        Map<String, String> environment = new HashMap<>(env.processEnvironment());
        environment.put("WLP_USER_DIR", userDir.toString());
        return environment;
    }

    @Override
    public void start() throws Exception {
        String withXa = serverXml(httpPort, httpsPort, env.jdbcUrl()).replace("</server>\n",
                indent(XaPools.libertyXml(env::xaUrl)
                        + NativeXaDataSource.libertyXml(NativeXaDataSource.driverJar(), env.databasePort()) + "<webApplication location=\"xa.war\" contextRoot=\"/xa\"/>\n") + "\n</server>\n");
        start(withXa, 4);
    }

    /** The server without proxyra or any application: where the redeploy test starts. */
    public void startBare() throws Exception {
        start(withoutProxyra(serverXml(httpPort, httpsPort, env.jdbcUrl())), 0);
    }

    private void start(String serverXml, int applications) throws Exception {
        ServerProcess.deleteTree(userDir);
        ServerProcess.run(env.work(), environment(), Duration.ofMinutes(2),
                List.of(wlp.resolve("bin/server").toString(), "create", SERVER));
        Path apps = serverDir.resolve("apps");
        Files.createDirectories(apps);
        Files.copy(env.rar(), serverDir.resolve("proxyra.rar"));
        for (Path war : List.of(env.demoWar(), env.plainWar(), env.ejbWar(), env.xaWar())) {
            Files.copy(war, apps.resolve(war.getFileName()));
        }
        Files.writeString(serverDir.resolve("server.xml"), serverXml);
        process = ServerProcess.start(env.work(), environment(), env.work().resolve("console.log"),
                List.of(wlp.resolve("bin/server").toString(), "run", SERVER));
        Path messages = messages();
        ServerProcess.await(name() + " with its " + applications + " applications started", Duration.ofMinutes(4),
                serverDir.resolve("logs"), () -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException(name() + " exited with " + process.exitValue());
                    }
                    for (String failure : List.of("CWWKZ0002E", "CWWKZ0004E", "CWWKF0002E", "J2CA7002E")) {
                        if (ServerProcess.fileContains(messages, failure)) {
                            throw new IllegalStateException(name() + " failed to start (" + failure + "); see " + messages);
                        }
                    }
                    return ServerProcess.fileContains(messages, "CWWKF0011I")
                            && ServerProcess.count(messages, "CWWKZ0001I") >= applications;
                });
    }

    private Path messages() {
        return serverDir.resolve("logs/messages.log");
    }

    /**
     * The guide's resource adapter and connection factory, demo.war and plain.war added to the running server's
     * server.xml; returns when both applications answer.
     */
    public void deployProxyraDemoAndPlain() throws Exception {
        int started = ServerProcess.count(messages(), "CWWKZ0001I");
        replaceConfig(serverXml(httpPort, httpsPort, env.jdbcUrl())
                .replaceAll("(?s)\\s*<webApplication location=\"ejb.war\".*?</webApplication>", ""));
        ServerProcess.await(name() + " starting demo.war and plain.war", Duration.ofMinutes(2), messages().getParent(),
                () -> ServerProcess.count(messages(), "CWWKZ0001I") >= started + 2
                        && ServerProcess.deployed(demo().resolve("public/whoami"))
                        && ServerProcess.deployed(plain().resolve("public/whoami")));
    }

    /** The server's JVM, for jcmd. */
    public long pid() {
        return ServerProcess.javaPid(process);
    }

    /** The server.xml of the suite: the guide's features and proxyra elements, the test applications, ports. */
    static String serverXml(int http, int https, String jdbcUrl) {
        StringBuilder users = new StringBuilder();
        String runAsPassword = null;
        for (String[] user : TestWars.USERS) {
            users.append("    <user name=\"").append(user[0]).append("\" password=\"").append(user[1]).append("\"/>\n");
            if (user[0].equals(TestWars.RUN_AS)) {
                runAsPassword = user[1];
            }
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<server description=\"proxyra\">\n"
                + indent(features()) + "\n"
                + "  <httpEndpoint id=\"defaultHttpEndpoint\" host=\"127.0.0.1\" httpPort=\"" + http + "\" httpsPort=\""
                + https + "\"/>\n\n"
                + indent(proxyraXml(jdbcUrl)) + "\n"
                + indent("""
                        <basicRegistry id="basic" realm="proxyra">
                        %s</basicRegistry>

                        <webApplication location="demo.war" contextRoot="/demo">
                          <classloader apiTypeVisibility="spec, ibm-api, api, stable, third-party"/>
                        </webApplication>
                        <webApplication location="plain.war" contextRoot="/plain"/>
                        <webApplication location="ejb.war" contextRoot="/ejb">
                          <application-bnd>
                            <security-role name="auditor">
                              <user name="%s"/>
                              <run-as userid="%s" password="%s"/>
                            </security-role>
                          </application-bnd>
                        </webApplication>
                        """.formatted(users.toString().replace("    <user", "  <user"), TestWars.RUN_AS, TestWars.RUN_AS,
                        runAsPassword))
                + "</server>\n";
    }

    /** The features of docs/servers/open-liberty.md (checked by GuidesTest). */
    static String features() {
        return """
                <featureManager>
                  <feature>connectors-2.1</feature>
                  <feature>mpConfig-3.1</feature>
                  <feature>appSecurity-5.0</feature>
                  <feature>cdi-4.0</feature>
                  <feature>restfulWS-3.1</feature>
                  <feature>jsonp-2.1</feature>
                  <feature>persistence-3.1</feature>
                  <feature>enterpriseBeansLite-4.0</feature>
                  <feature>concurrent-3.0</feature>
                  <feature>mpHealth-4.0</feature>
                </featureManager>
                """;
    }

    /** The adapter and its pool, as docs/servers/open-liberty.md shows them (checked by GuidesTest). */
    static String proxyraXml(String jdbcUrl) {
        return """
                <resourceAdapter id="proxyra" location="${server.config.dir}/proxyra.rar"/>
                <connectionFactory id="erp" jndiName="jdbc/erp">
                  <properties.proxyra URL="%s" User="app_proxy" UnauthenticatedAccess="METADATA_ONLY" PoolName="erp"/>
                </connectionFactory>
                """.formatted(jdbcUrl.replace("&", "&amp;"));
    }

    private static String indent(String block) {
        StringBuilder sb = new StringBuilder();
        for (String line : block.split("\n", -1)) {
            sb.append(line.isEmpty() ? "" : "  " + line).append('\n');
        }
        return sb.substring(0, sb.length() - 1);
    }

    /**
     * Undeploys as the guide says: the resource adapter, its connection factory and the applications using it leave
     * server.xml, and Liberty applies the change while it runs. Returns when the adapter reported that it stopped.
     * The new server.xml replaces the old one in one rename, so Liberty's polling never reads half a file.
     */
    public void undeploy() throws Exception {
        Path config = serverDir.resolve("server.xml");
        Path messages = messages();
        int updatesBefore = ServerProcess.count(messages, "CWWKG0016I");
        int stopsBefore = ServerProcess.count(messages, "proxyra: resource adapter stopped");
        replaceConfig(withoutProxyra(Files.readString(config)));
        try {
            ServerProcess.await(name() + " stopping proxyra", Duration.ofMinutes(2), messages.getParent(),
                    () -> ServerProcess.count(messages, "proxyra: resource adapter stopped") > stopsBefore);
        } catch (IllegalStateException e) {
            boolean noticed = ServerProcess.count(messages, "CWWKG0016I") > updatesBefore;
            throw new IllegalStateException(e.getMessage() + (noticed ? "; Liberty began the configuration update"
                    : "; Liberty never began a configuration update (no new CWWKG0016I)") + "\nits log:\n"
                    + ServerProcess.lastLines(messages, 40) + "\nits threads:\n"
                    + ServerProcess.threadDump(process, "dev.proxyra", "oracle.ucp", "ConfigRefresher", "rar."), e);
        }
    }

    /** A new server.xml in one rename, so Liberty's polling never reads half a file. */
    private void replaceConfig(String serverXml) throws IOException {
        Path edited = serverDir.resolve("server.xml.edited");
        Files.writeString(edited, serverXml);
        Files.move(edited, serverDir.resolve("server.xml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static String withoutProxyra(String serverXml) {
        return serverXml.replaceAll("(?s)\\s*<resourceAdapter [^>]*/>", "")
                .replaceAll("(?s)\\s*<connectionFactory .*?</connectionFactory>", "")
                .replaceAll("(?s)\\s*<webApplication [^>]*/>", "")
                .replaceAll("(?s)\\s*<webApplication [^>]*[^/]>.*?</webApplication>", "");
    }

    @Override
    public void crash() throws Exception {
        ServerProcess.kill(process);
    }

    /** server run again on the same server directory: server.xml, the applications, the transaction log (tranlog). */
    @Override
    public void restartAfterCrash() throws Exception {
        // Liberty moves the last messages.log aside at start: the new process's own console output says when it started
        Path console = env.work().resolve("console-restart.log");
        process = ServerProcess.start(env.work(), environment(), console,
                List.of(wlp.resolve("bin/server").toString(), "run", SERVER));
        ServerProcess.await(name() + " started again", Duration.ofMinutes(4), serverDir.resolve("logs"), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name() + " exited with " + process.exitValue());
            }
            return ServerProcess.fileContains(console, "CWWKF0011I") && ServerProcess.deployed(xa().resolve("xa/commit"));
        });
    }

    @Override
    public void close() throws Exception {
        if (process != null) {
            process.destroy(); // "server run": SIGTERM stops the server cleanly
            ServerProcess.stop(process, Duration.ofSeconds(60));
            process = null;
        }
    }
}
