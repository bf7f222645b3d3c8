package dev.proxyra.it.servers;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.proxyra.it.support.PayaraSetup;

/**
 * Payara Micro as the demo and its users run it: pre- and post-boot command files (proxyra.rar deployed, the pool and
 * the resource created by asadmin commands, the file realm's users), the applications given with {@code --deploy}.
 */
public final class PayaraMicroServer implements DemoServer {
    private final ServerEnvironment env;
    private final PayaraSetup setup;
    private int port;
    private Process process;
    /** The command line, kept for a restart. */
    private List<String> command;

    public PayaraMicroServer(ServerEnvironment env) {
        this.env = env;
        this.setup = new PayaraSetup(env.work().resolve("micro"));
    }

    @Override
    public String name() {
        return "Payara Micro " + System.getProperty("payara-micro.version", "6");
    }

    @Override
    public URI root() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    @Override
    public String anonymousName() {
        return "ANONYMOUS";
    }

    @Override
    public List<String> connectionErrorMarkers() {
        return List.of("RAR5117", "RAR5114", "RAR7132", "connectionErrorOccurred");
    }

    @Override
    public String log() throws IOException {
        return setup.log();
    }

    /** asadmin's file realm users of plain.war and ejb.war, one password file each. */
    static List<String> fileUsers(Path dir) throws IOException {
        List<String> commands = new ArrayList<>();
        for (String[] user : TestWars.USERS) {
            Path passwordFile = dir.resolve("password-" + user[0] + ".txt");
            Files.writeString(passwordFile, "AS_ADMIN_USERPASSWORD=" + user[1] + "\n");
            commands.add("create-file-user --groups user --passwordfile " + passwordFile + " " + user[0]);
        }
        return commands;
    }

    @Override
    public void start() throws Exception {
        port = ServerProcess.freePort();
        Files.createDirectories(setup.dir());
        List<String> more = new ArrayList<>(fileUsers(setup.dir()));
        more.addAll(XaPools.payaraCommands(env::xaUrl));
        more.addAll(NativeXaDataSource.payaraCommands(env.databasePort()));
        setup.prepare(env.rar(), env.jdbcUrl(), more);
        command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-jar", PayaraSetup.microJar().toString()));
        command.addAll(setup.microOptions());
        command.addAll(List.of("--port", Integer.toString(port)));
        command.addAll(List.of("--addlibs", NativeXaDataSource.driverJar().toString())); // the server's own XA data source
        for (Path war : List.of(env.demoWar(), env.plainWar(), env.ejbWar(), env.xaWar())) {
            command.addAll(List.of("--deploy", war.toString()));
        }
        process = ServerProcess.start(env.work(), env.processEnvironment(), setup.dir().resolve("console.log"), command);
        ServerProcess.await(name() + " answering on " + root(), Duration.ofMinutes(4), setup.dir(), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name() + " exited with " + process.exitValue());
            }
            // Payara Micro answers HTTP before it ran the post-boot commands and deployed the applications
            return ServerProcess.fileContains(setup.dir().resolve("console.log"), " ready in ");
        });
        setup.assertBootSucceeded();
        for (String app : List.of("demo", "plain", "ejb", "xa")) {
            setup.assertDeployed(app);
        }
    }

    @Override
    public void crash() throws Exception {
        ServerProcess.kill(process);
    }

    /** The same command again: the root directory (--rootdir) keeps the domain's configuration and transaction log. */
    @Override
    public void restartAfterCrash() throws Exception {
        process = ServerProcess.start(env.work(), env.processEnvironment(), setup.dir().resolve("console-restart.log"),
                command);
        ServerProcess.await(name() + " answering again on " + root(), Duration.ofMinutes(4), setup.dir(), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name() + " exited with " + process.exitValue());
            }
            return ServerProcess.fileContains(setup.dir().resolve("console-restart.log"), " ready in ");
        });
        setup.assertDeployed("xa");
    }

    @Override
    public void close() throws Exception {
        if (process != null) {
            process.destroy(); // Payara Micro shuts down on SIGTERM
            ServerProcess.stop(process, Duration.ofSeconds(60));
            process = null;
        }
    }
}
