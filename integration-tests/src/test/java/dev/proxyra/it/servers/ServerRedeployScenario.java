package dev.proxyra.it.servers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.HeapDump;
import dev.proxyra.it.support.LoadedClasses;

/**
 * Redeploying as a server's guide says, four times: undeploy demo.war and plain.war, undeploy the adapter with its
 * pool and {@code jdbc/erp}, deploy the rar again, recreate the pool and {@code jdbc/erp}, deploy the applications,
 * serve alice and bob on each as themselves. Then, after full collections and with no wait for anything to idle, only
 * the deployed copy of the adapter may be loaded: one class loader holding its classes. Where the server itself keeps
 * an undeployed copy ({@link #serverHolder}), a heap dump must show nothing else keeping one. A subclass says how its
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
        if (adapters == 1) {
            return;
        }
        // for whoever investigates: the server's heap and threads, and what keeps each copy reachable
        Path dump = env.work().resolve("redeploy-leak.hprof");
        LoadedClasses.heapDump(pid, dump);
        Files.writeString(dump.resolveSibling("redeploy-leak-threads.txt"), LoadedClasses.jcmd(pid, "Thread.print"));
        HeapDump heap = HeapDump.read(dump);
        String paths = describe(heap.pathsToLoadersOf(ADAPTER_CLASS, frame -> false, (type, field) -> false));
        Files.writeString(dump.resolveSibling("redeploy-leak-paths.txt"), paths);
        String evidence = " (heap dump and threads in " + env.work() + "); what keeps each copy:\n" + paths;
        ServerHolder holder = serverHolder();
        if (holder == null) {
            assertThat(adapters).as("class loaders holding " + ADAPTER_CLASS + " in " + server.name() + " after "
                    + CYCLES + " redeploys, the deployed copy included" + evidence).isEqualTo(1);
            return;
        }
        long reachable = heap.pathsToLoadersOf(ADAPTER_CLASS, holder.frame(), holder.field()).values().stream()
                .filter(path -> !path.isEmpty()).count();
        System.out.printf("[redeploy] %s: class loaders holding proxyra strongly reachable but through %s=%d%n",
                server.name(), holder.description(), reachable);
        assertThat(reachable).as("class loaders holding " + ADAPTER_CLASS + " in " + server.name() + " after " + CYCLES
                + " redeploys reachable from a GC root but through " + holder.description() + ", the deployed copy"
                + " included" + evidence).isEqualTo(1);
    }

    /**
     * What the server itself is known to keep of an undeployed copy of the adapter, which nothing in the adapter
     * can let go of: the frames and fields a heap dump's paths are not followed through. The test then asserts
     * that nothing else keeps a copy; without one (the default), that no copy but the deployed one is loaded.
     */
    protected ServerHolder serverHolder() {
        return null;
    }

    /**
     * @param frame accepts a Java frame ({@code class.method}, slashes) whose locals are no path
     * @param field accepts a field ({@code class}, {@code field}) that is no path
     */
    protected record ServerHolder(String description, Predicate<String> frame, BiPredicate<String, String> field) {
    }

    private static String describe(Map<Long, List<String>> paths) {
        StringBuilder text = new StringBuilder();
        paths.forEach((loader, path) -> text.append("class loader ").append(Long.toHexString(loader)).append(":\n")
                .append(path.isEmpty() ? "  strongly reachable from no GC root\n"
                        : "  " + String.join("\n  ", path) + "\n"));
        return text.toString();
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
