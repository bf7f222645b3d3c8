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

/**
 * Redeploying as a server's guide says, four times: undeploy demo.war and plain.war, undeploy the adapter with its
 * pool and {@code jdbc/erp}, deploy the rar again, recreate the pool and {@code jdbc/erp}, deploy the applications,
 * serve alice and bob on each as themselves. Then, after full collections and with no wait for anything to idle, only
 * the deployed copy of the adapter may be loaded: one class loader holding its classes. A subclass says how its
 * server starts, deploys and undeploys.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerRedeployScenario {
    private static final int CYCLES = 4;
    private static final String ADAPTER_CLASS = "dev.proxyra.spi.ProxyraResourceAdapter";

    protected ServerEnvironment env;

    /** The directory name of this server's work directory. */
    protected abstract String id();

    /** The server, not started. */
    protected abstract DemoServer create(ServerEnvironment env) throws Exception;

    /** Starts the server without proxyra or the applications. */
    protected abstract void startBare() throws Exception;

    /** The rar, its pool and {@code jdbc/erp}, demo.war and plain.war; returns when both applications answer. */
    protected abstract void deployAll() throws Exception;

    /** The applications, then the adapter with its pool and {@code jdbc/erp}; returns when the adapter stopped. */
    protected abstract void undeployAll() throws Exception;

    /** The process id of the server's JVM, for jcmd. */
    protected abstract long pid() throws Exception;

    protected DemoServer server;

    @BeforeAll
    void startServer() throws Exception {
        env = ServerEnvironment.forServer(id());
        server = create(env);
        try {
            startBare();
            deployAndServe();
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
        long started = System.nanoTime();
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            undeployAll();
            deployAndServe();
        }
        long pid = pid();
        String classes = LoadedClasses.afterFullCollections(pid);
        long adapters = LoadedClasses.copies(classes, ADAPTER_CLASS);
        System.out.printf("[redeploy] %s after %d redeploys (%d s): class loaders holding proxyra=%d%n", server.name(),
                CYCLES, (System.nanoTime() - started) / 1_000_000_000L, adapters);
        String evidence = "";
        if (adapters > 1) {
            // for whoever investigates: the server's heap, to find what keeps the old loader reachable
            Path dump = env.work().resolve("redeploy-leak.hprof");
            LoadedClasses.heapDump(pid, dump);
            Files.writeString(dump.resolveSibling("redeploy-leak-threads.txt"), LoadedClasses.jcmd(pid, "Thread.print"));
            evidence = " (heap dump and threads in " + env.work() + ")";
        }
        assertThat(adapters).as("class loaders holding " + ADAPTER_CLASS + " in " + server.name() + " after " + CYCLES
                + " redeploys, the deployed copy included" + evidence).isEqualTo(1);
    }

    private void deployAndServe() throws Exception {
        deployAll();
        for (DemoClient app : List.of(new DemoClient(server.demo()), new DemoClient(server.plain()))) {
            for (String user : List.of("alice", "bob")) {
                assertThat(app.get("whoami", user).expect(200).text("databaseUser")).as(app.base() + " as " + user)
                        .isEqualTo(user);
            }
        }
    }
}
