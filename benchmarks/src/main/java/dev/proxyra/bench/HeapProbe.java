package dev.proxyra.bench;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import javax.sql.DataSource;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ManagedConnection;

import oracle.ucp.jdbc.PoolDataSource;

import org.openjdk.jol.info.GraphLayout;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.TestCallers;

/**
 * What a pooled connection costs in heap.
 *
 * <p>Physical connections: retained heap (used heap after full GCs) with N idle physical connections,
 * each labelled with a different caller, minus the same JVM's retained heap before the pool existed;
 * once for a raw labelled UCP pool (scenario c) and once for proxyra, in alternating rounds. The
 * difference per connection is what the adapter adds per pooled physical connection. The pgjdbc and
 * UCP objects dominate both, so the difference is small and shown with its spread over the rounds.
 *
 * <p>Managed-connection shells: an application server pools proxyra's ManagedConnection objects
 * separately from UCP's physical connections (one per server-pool slot). Their exact deep size is
 * taken with JOL: every object reachable from a shell and not from the factory and its pool.
 */
public final class HeapProbe {
    static {
        // UCP keeps lambdas (hidden classes) in its pool objects: JOL can only walk past them this way.
        if (System.getProperty("jol.magicFieldOffset") == null) {
            System.setProperty("jol.magicFieldOffset", "true");
        }
    }

    /** The probe's figures, bytes. */
    public record Result(int connections, int rounds, double ucpPerConnection, double proxyraPerConnection,
            double adapterPerConnection, double adapterPerConnectionMin, double adapterPerConnectionMax,
            long managedConnectionShell) {
    }

    private HeapProbe() {
    }

    public static Result measure(String url, int connections, int rounds) throws Exception {
        // Warm-up round: loads classes and starts UCP's and the driver's static machinery.
        ucpRound(url, 4);
        proxyraRound(url, 4);
        double[] ucp = new double[rounds];
        double[] proxyra = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            // Alternate the order, so a slow drift of the heap does not favour one side.
            if (r % 2 == 0) {
                ucp[r] = ucpRound(url, connections) / (double) connections;
                proxyra[r] = proxyraRound(url, connections) / (double) connections;
            } else {
                proxyra[r] = proxyraRound(url, connections) / (double) connections;
                ucp[r] = ucpRound(url, connections) / (double) connections;
            }
        }
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            double d = proxyra[r] - ucp[r];
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        double ucpMean = mean(ucp);
        double proxyraMean = mean(proxyra);
        return new Result(connections, rounds, ucpMean, proxyraMean, proxyraMean - ucpMean, min, max,
                managedConnectionShell(url));
    }

    /** Retained bytes of {@code n} idle raw-UCP physical connections, each labelled with its own role. */
    static long ucpRound(String url, int n) throws Exception {
        long before = retainedHeap();
        Workloads.UcpLabelled w = new Workloads.UcpLabelled(url, n);
        long after;
        try {
            PoolDataSource ucp = w.ucp();
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    Properties labels = new Properties();
                    labels.setProperty(Workloads.UcpLabelled.KEY, Callers.numbered(i));
                    Connection c = ucp.getConnection(labels);
                    held.add(c);
                    query(c);
                }
            } finally {
                closeAll(held);
            }
            held = null;
            checkIdle(ucp.getAvailableConnectionsCount(), n);
            after = retainedHeap();
        } finally {
            w.close();
        }
        return after - before;
    }

    /** Retained bytes of {@code n} idle proxyra physical connections, each left running as its own caller. */
    static long proxyraRound(String url, int n) throws Exception {
        long before = retainedHeap();
        ProxyraManagedConnectionFactory mcf = Workloads.Proxyra.factory(url, n);
        long after;
        try {
            DataSource ds = (DataSource) mcf.createConnectionFactory();
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    TestCallers.set(Callers.numbered(i));
                    Connection c = ds.getConnection();
                    held.add(c);
                    query(c);
                }
            } finally {
                TestCallers.set(null);
                closeAll(held);
            }
            held = null;
            checkIdle(mcf.pool().totalCount() - mcf.pool().borrowedCount(), n);
            after = retainedHeap();
        } finally {
            mcf.close();
        }
        return after - before;
    }

    /**
     * Deep size of one managed connection shell, without what it shares with every other shell. The smallest of
     * three: an object a background thread (UCP's, the driver's) links into the shared graph between the two walks
     * is counted as the shell's, so a walk can only over-count (one run after the heap rounds counted 397 KB).
     */
    static long managedConnectionShell(String url) throws ResourceException, SQLException {
        ProxyraManagedConnectionFactory mcf = Workloads.Proxyra.factory(url, 2);
        try {
            long smallest = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                ManagedConnection mc = mcf.createManagedConnection(null, null);
                GraphLayout shared = GraphLayout.parseInstance(mcf, mcf.pool());
                smallest = Math.min(smallest, GraphLayout.parseInstance(mc).subtract(shared).totalSize());
                mc.destroy();
            }
            return smallest;
        } finally {
            mcf.close();
        }
    }

    private static void query(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            Workloads.currentUser(s);
        }
    }

    private static void closeAll(List<Connection> held) throws SQLException {
        for (Connection c : held) {
            c.close();
        }
    }

    private static void checkIdle(int idle, int n) {
        if (idle != n) {
            throw new IllegalStateException("expected " + n + " idle physical connections, found " + idle);
        }
    }

    /** Used heap after full collections, once it stops shrinking. */
    static long retainedHeap() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            Thread.sleep(20);
            long used = memory.getHeapMemoryUsage().getUsed();
            if (i >= 2 && Math.abs(last - used) < 4096) {
                return used;
            }
            last = used;
        }
        return last;
    }

    private static double mean(double[] xs) {
        double sum = 0;
        for (double x : xs) {
            sum += x;
        }
        return sum / xs.length;
    }
}
