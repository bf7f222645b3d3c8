package dev.proxyra.bench;

import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Borrow + {@code select current_user} + close, per {@link Scenario}, against one embedded PostgreSQL
 * that {@link BenchmarkMain} starts before the trials and names in the system property
 * {@value BenchDatabase#URL_PROPERTY} (without it, each trial starts its own database).
 * Thread count, forks and iterations come from the runner's options.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BorrowBenchmark {
    /** Physical connections per pool: as many as the largest thread count, so no borrow waits. */
    public static final int POOL_SIZE = 8;

    @Param({"PROXYRA_SAME", "PROXYRA_SAME_SCAN", "PROXYRA_SWITCH", "UCP_LABELLED", "UCP_SET_ROLE", "NEW_CONNECTION"})
    public String scenario;

    Scenario which;
    Workload workload;
    private BenchDatabase database;

    @Setup(Level.Trial)
    public void open() throws Exception {
        which = Scenario.valueOf(scenario);
        database = BenchDatabase.fromSystemProperties();
        workload = Workloads.open(which, database.url(), POOL_SIZE);
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        workload.close();
        database.close();
    }

    /** Each benchmark thread's position in its walk through the callers. */
    @State(Scope.Thread)
    public static class CallerWalk {
        int thread;
        long sequence;

        @Setup(Level.Trial)
        public void open(ThreadParams params) {
            thread = params.getThreadIndex();
        }
    }

    @Benchmark
    public String borrowQueryClose(CallerWalk walk) throws SQLException {
        return workload.borrowAndQuery(Callers.forBorrow(which, walk.thread, walk.sequence++));
    }
}
