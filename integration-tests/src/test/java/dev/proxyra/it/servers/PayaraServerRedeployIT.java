package dev.proxyra.it.servers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.LoadedClasses;
import dev.proxyra.it.support.PayaraSetup;

/**
 * Redeploying on Payara Server as the guide says (docs/servers/payara-server.md, "Undeploy"), four times: undeploy
 * the applications, {@code asadmin undeploy --cascade=true proxyra}, deploy the rar again, recreate the pool and
 * {@code jdbc/erp}, deploy the applications, serve alice and bob on each. Then, after full collections and with no
 * wait for anything to idle, only the deployed copy of the adapter may be loaded: one class loader holding its
 * classes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PayaraServerRedeployIT {
    private static final int CYCLES = 4;
    private static final String ADAPTER_CLASS = "dev.proxyra.spi.ProxyraResourceAdapter";

    private ServerEnvironment env;
    private PayaraServerDomain server;

    @BeforeAll
    void startServer() throws Exception {
        env = ServerEnvironment.forServer("payara-server-redeploy");
        server = new PayaraServerDomain(env);
        try {
            server.startBare();
            deployAll();
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void redeployingLeavesOnlyTheDeployedCopyOfTheAdapterLoaded() throws Exception {
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            server.asadmin("undeploy", "demo");
            server.asadmin("undeploy", "plain");
            server.asadmin("undeploy", "--cascade=true", PayaraSetup.RAR_NAME);
            deployAll();
        }
        long pid = server.pid();
        String classes = LoadedClasses.afterFullCollections(pid);
        long adapters = LoadedClasses.copies(classes, ADAPTER_CLASS);
        System.out.println("[redeploy] Payara Server after " + CYCLES + " redeploys: class loaders holding proxyra="
                + adapters);
        String evidence = "";
        if (adapters > 1) {
            // for whoever investigates: the server's heap, to find what keeps the old loader reachable
            Path dump = env.work().resolve("redeploy-leak.hprof");
            LoadedClasses.heapDump(pid, dump);
            Files.writeString(dump.resolveSibling("redeploy-leak-threads.txt"), LoadedClasses.jcmd(pid, "Thread.print"));
            evidence = " (heap dump and threads in " + env.work() + ")";
        }
        assertThat(adapters).as("class loaders holding " + ADAPTER_CLASS + " after " + CYCLES
                + " redeploys, the deployed copy included" + evidence).isEqualTo(1);
    }

    /** The rar with the guide's commands, demo.war and plain.war, each serving alice and bob. */
    private void deployAll() throws Exception {
        for (String command : PayaraServerDomain.asadminCommands(env.rar().toString(), env.jdbcUrl())) {
            server.asadmin(command.split(" "));
        }
        DemoClient demo = new DemoClient(server.demo());
        DemoClient plain = new DemoClient(server.plain());
        server.deploy(env.demoWar(), server.demo().resolve("public/whoami"));
        server.deploy(env.plainWar(), server.plain().resolve("public/whoami"));
        for (DemoClient app : List.of(demo, plain)) {
            for (String user : List.of("alice", "bob")) {
                assertThat(app.get("whoami", user).expect(200).text("databaseUser")).isEqualTo(user);
            }
        }
    }
}
