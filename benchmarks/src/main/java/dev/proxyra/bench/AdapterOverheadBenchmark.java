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

import dev.proxyra.testing.fakepg.FakePgDataSource;

/**
 * The client side of {@link BorrowBenchmark} alone: the same scenarios over {@link FakePgDataSource}, an
 * in-memory PostgreSQL stand-in, so no round trip and no server CPU hides or blurs the adapter's own cost.
 * What (a) costs over (c) here is CPU time proxyra spends per borrow (plus the fake's equal small cost per
 * extra JDBC call, e.g. the verification query).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AdapterOverheadBenchmark {
    static final String FAKE_URL = "jdbc:postgresql://fake.invalid:5432/postgres";

    @Param({"PROXYRA_SAME", "PROXYRA_SAME_SCAN", "PROXYRA_SWITCH", "UCP_LABELLED", "UCP_SET_ROLE"})
    public String scenario;

    Scenario which;
    Workload workload;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        which = Scenario.valueOf(scenario);
        workload = Workloads.open(which, FAKE_URL, BorrowBenchmark.POOL_SIZE, FakePgDataSource.class.getName());
    }

    @TearDown(Level.Trial)
    public void close() {
        workload.close();
    }

    @Benchmark
    public String borrowQueryClose(BorrowBenchmark.CallerWalk walk) throws SQLException {
        return workload.borrowAndQuery(Callers.forBorrow(which, walk.thread, walk.sequence++));
    }
}
