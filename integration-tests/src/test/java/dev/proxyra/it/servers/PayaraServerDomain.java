package dev.proxyra.it.servers;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import dev.proxyra.it.support.PayaraSetup;

/**
 * Payara Server as its users run it: a domain made with {@code asadmin create-domain}, started with the proxy password
 * in the environment, configured with asadmin against the running server. The domain lives in its own directory;
 * every listener is bound to 127.0.0.1 before the first start.
 */
public final class PayaraServerDomain implements DemoServer {
    public static final String VERSION = System.getProperty("payara-server.version", "6.2025.9");
    private static final String DOMAIN = "proxyra";
    /** Offsets from the port base of the listeners a fresh domain opens (admin, http, https, iiop, jms, jmx, hazelcast). */
    private static final int[] PORTS = {48, 80, 81, 37, 38, 39, 76, 86, 49, 59, 66, 9};

    private final ServerEnvironment env;
    private final Path home;
    private final Path domains;
    private int portBase;
    private boolean started;

    public PayaraServerDomain(ServerEnvironment env) {
        this.env = env;
        this.home = env.distributions().resolve("payara6");
        this.domains = env.work().resolve("domains");
    }

    @Override
    public String name() {
        return "Payara Server " + VERSION;
    }

    @Override
    public URI root() {
        return URI.create("http://127.0.0.1:" + (portBase + 80) + "/");
    }

    /** The admin console. */
    public URI console() {
        return URI.create("http://127.0.0.1:" + (portBase + 48) + "/");
    }

    @Override
    public String anonymousName() {
        return "ANONYMOUS";
    }

    @Override
    public List<String> connectionErrorMarkers() {
        return List.of("RAR5117", "RAR5114", "RAR7132", "connectionErrorOccurred");
    }

    private Path logFile() {
        return domains.resolve(DOMAIN).resolve("logs/server.log");
    }

    @Override
    public String log() throws IOException {
        return Files.exists(logFile()) ? Files.readString(logFile(), StandardCharsets.ISO_8859_1) : "";
    }

    /** A started domain on loopback, without proxyra: what the console test starts from. */
    public void startBare() throws Exception {
        ServerProcess.deleteTree(domains);
        portBase = freePortBase();
        asadminOffline("--user", "admin", "create-domain", "--nopassword=true", "--portbase", Integer.toString(portBase),
                "--domaindir", domains.toString(), DOMAIN);
        onLoopbackOnly(domains.resolve(DOMAIN).resolve("config/domain.xml"), portBase);
        // the JDBC driver of the server's own XA data source, where a domain's common libraries go (read at start)
        Files.copy(NativeXaDataSource.driverJar(), domains.resolve(DOMAIN).resolve("lib/postgresql.jar"));
        // the server's JVM inherits asadmin's environment: PROXYRA_PASSWORD reaches MicroProfile Config
        asadminOffline("start-domain", "--domaindir", domains.toString(), DOMAIN);
        started = true;
        // the guide's asadmin commands for the same (they take effect at the next start; accepted here). The JVM option
        // is already in domain.xml, and asadmin refuses to create it twice.
        asadmin("delete-jvm-options", "-Dhazelcast.socket.bind.any=false");
        for (String command : loopbackCommands()) {
            asadmin(command.split(" "));
        }
        for (String[] user : TestWars.USERS) {
            Path passwordFile = env.work().resolve("password-" + user[0] + ".txt");
            Files.writeString(passwordFile, "AS_ADMIN_USERPASSWORD=" + user[1] + "\n");
            asadmin("--passwordfile", passwordFile.toString(), "create-file-user", "--groups", "user", user[0]);
        }
    }

    @Override
    public void start() throws Exception {
        startBare();
        for (String command : asadminCommands(env.rar().toString(), env.jdbcUrl())) {
            asadmin(command.split(" "));
        }
        for (String command : XaPools.payaraCommands(env::xaUrl)) {
            asadmin(command.split(" "));
        }
        for (String command : NativeXaDataSource.payaraCommands(env.databasePort())) {
            asadmin(command.split(" "));
        }
        for (Path war : List.of(env.demoWar(), env.plainWar(), env.ejbWar(), env.xaWar())) {
            asadmin("deploy", war.toString());
        }
        // deploy returns before an application answers
        ServerProcess.await(name() + " answering on " + root(), Duration.ofMinutes(3), logFile().getParent(),
                () -> answers(demo().resolve("public/whoami")) && answers(plain().resolve("public/whoami"))
                        && answers(ejb().resolve("ejb")));
    }

    /** The server's process id (the domain's config/pid), for jcmd. */
    public long pid() throws IOException {
        return Long.parseLong(Files.readString(domains.resolve(DOMAIN).resolve("config/pid")).trim());
    }

    /** Deploys {@code war} under its file name and returns when it answers at {@code probe}. */
    public void deploy(Path war, URI probe) throws Exception {
        asadmin("deploy", war.toString());
        ServerProcess.await(probe + " answering", Duration.ofMinutes(3), logFile().getParent(), () -> answers(probe));
    }

    private static boolean answers(URI uri) {
        int status = ServerProcess.status(uri);
        return status > 0 && status != 404 && status != 503;
    }

    /** docs/servers/payara-server.md: a running domain kept on loopback from its next start (checked by GuidesTest). */
    static List<String> loopbackCommands() {
        String listener = "set configs.config.server-config.network-config.network-listeners.network-listener.";
        return List.of(listener + "http-listener-1.address=127.0.0.1", listener + "http-listener-2.address=127.0.0.1",
                listener + "admin-listener.address=127.0.0.1",
                "set configs.config.server-config.jms-service.jms-host.default_JMS_host.host=127.0.0.1",
                "set-hazelcast-configuration --dasbindaddress 127.0.0.1 --interfaces 127.0.0.1",
                "create-jvm-options -Dhazelcast.socket.bind.any=false");
    }

    /** The asadmin commands of docs/servers/payara-server.md (checked by GuidesTest): the same as Payara Micro's. */
    static List<String> asadminCommands(String rar, String jdbcUrl) {
        return PayaraSetup.postBootCommands(Path.of(rar), jdbcUrl);
    }

    /** Runs asadmin against this domain's admin port. */
    public String asadmin(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("--port", Integer.toString(portBase + 48)));
        command.addAll(List.of(arguments));
        return asadminOffline(command.toArray(new String[0]));
    }

    private String asadminOffline(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/asadmin").toString()));
        command.addAll(List.of(arguments));
        return ServerProcess.run(env.work(), env.processEnvironment(), Duration.ofMinutes(5), command);
    }

    /**
     * What a fresh domain would bind to 0.0.0.0, bound to 127.0.0.1 in domain.xml before the first start: the HTTP and
     * admin listeners, IIOP, JMX, the JMS broker (whose "localhost" means all interfaces) and Hazelcast.
     */
    static void onLoopbackOnly(Path domainXml, int portBase) throws IOException {
        String xml = Files.readString(domainXml);
        xml = xml.replace("address=\"0.0.0.0\"", "address=\"127.0.0.1\"")
                .replaceAll("<network-listener port=\"(\\d+)\"", "<network-listener address=\"127.0.0.1\" port=\"$1\"")
                .replaceAll("(<jms-host [^>]*)host=\"localhost\"", "$1host=\"127.0.0.1\"")
                .replaceFirst("(<connector-service [^>]*></connector-service>)", "$1\n            <jms-service type=\"EMBEDDED\""
                        + " default-jms-host=\"default_JMS_host\"><jms-host name=\"default_JMS_host\" host=\"127.0.0.1\" port=\""
                        + (portBase + 76) + "\"></jms-host></jms-service>")
                .replace("<hazelcast-runtime-configuration ",
                        "<hazelcast-runtime-configuration das-bind-address=\"127.0.0.1\" interface=\"127.0.0.1\" ")
                .replaceFirst("<jvm-options>-server</jvm-options>",
                        "<jvm-options>-server</jvm-options>\n        <jvm-options>-Dhazelcast.socket.bind.any=false</jvm-options>");
        Files.writeString(domainXml, xml);
    }

    private static int freePortBase() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(200, 600) * 100;
            boolean free = true;
            for (int offset : PORTS) {
                free &= ServerProcess.free(base + offset);
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free port base for Payara Server");
    }

    /** SIGKILL to the domain's JVM (config/pid), as ServerProcess.kill. */
    @Override
    public void crash() throws Exception {
        ProcessHandle jvm = ProcessHandle.of(pid()).orElseThrow();
        jvm.destroyForcibly();
        jvm.onExit().get(1, java.util.concurrent.TimeUnit.MINUTES);
    }

    /** start-domain again: domain.xml as asadmin left it, the applications, the transaction log (logs/tx). */
    @Override
    public void restartAfterCrash() throws Exception {
        asadminOffline("start-domain", "--domaindir", domains.toString(), DOMAIN);
        ServerProcess.await(name() + " answering on " + xa(), Duration.ofMinutes(3), logFile().getParent(),
                () -> answers(xa().resolve("xa/commit")));
    }

    @Override
    public void close() throws Exception {
        if (!started) {
            return;
        }
        started = false;
        try {
            asadminOffline("stop-domain", "--domaindir", domains.toString(), DOMAIN);
        } finally {
            Path pid = domains.resolve(DOMAIN).resolve("config/pid");
            if (Files.exists(pid)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(p -> {
                    p.destroyForcibly();
                });
            }
        }
    }
}
