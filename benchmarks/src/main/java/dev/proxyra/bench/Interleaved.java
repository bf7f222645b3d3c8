package dev.proxyra.bench;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Ratios that survive a busy machine. JMH measures one scenario after another, each for several seconds, so
 * anything else the machine does in the meantime lands on whichever scenario happens to be running. Here
 * every scenario's pool is open at once in one JVM and the scenarios take turns in short slices, in a new
 * random order every round; a ratio is computed within each round (scenarios measured a second apart) and
 * the median over the rounds is reported with its interquartile range. Slow drifts in the background load
 * then cancel out of the ratios. Absolute figures still come from JMH.
 */
public final class Interleaved {

    /** Throughput of one scenario in one slice. */
    public record Slice(Scenario scenario, int threads, int round, long ops, long nanos) {
        double opsPerSecond() {
            return ops * 1e9 / nanos;
        }
    }

    /** Median over the rounds of a per-round time ratio (denominator throughput / numerator throughput). */
    public record PairedRatio(String name, int threads, double median, double p25, double p75, int rounds) {
    }

    private Interleaved() {
    }

    public static List<Slice> run(List<Scenario> scenarios, String url, int threads, int warmupRounds, int rounds,
            long sliceMillis, long seed) throws Exception {
        Map<Scenario, Workload> workloads = new EnumMap<>(Scenario.class);
        try {
            for (Scenario s : scenarios) {
                workloads.put(s, Workloads.open(s, url, BorrowBenchmark.POOL_SIZE));
            }
            List<Slice> out = new ArrayList<>();
            Random random = new Random(seed);
            long[][] sequence = new long[Scenario.values().length][threads];
            Worker[] workers = new Worker[threads];
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            CyclicBarrier end = new CyclicBarrier(threads + 1);
            for (int t = 0; t < threads; t++) {
                workers[t] = new Worker(t, start, end, sequence);
                workers[t].setDaemon(true);
                workers[t].start();
            }
            try {
                for (int round = -warmupRounds; round < rounds; round++) {
                    List<Scenario> order = new ArrayList<>(scenarios);
                    Collections.shuffle(order, random);
                    for (Scenario s : order) {
                        LongAdder ops = new LongAdder();
                        long deadline = System.nanoTime() + sliceMillis * 1_000_000L;
                        for (Worker w : workers) {
                            w.assign(s, workloads.get(s), deadline, ops);
                        }
                        long began = System.nanoTime();
                        start.await();
                        end.await();
                        long took = System.nanoTime() - began;
                        for (Worker w : workers) {
                            if (w.failure.get() != null) {
                                throw new IllegalStateException("scenario " + s + " failed", w.failure.get());
                            }
                        }
                        if (round >= 0) {
                            out.add(new Slice(s, threads, round, ops.sum(), took));
                        }
                    }
                }
            } finally {
                for (Worker w : workers) {
                    w.assign(null, null, 0, null);
                }
                try {
                    start.await();
                } catch (BrokenBarrierException e) {
                    // workers already gone
                }
            }
            return out;
        } finally {
            for (Workload w : workloads.values()) {
                w.close();
            }
        }
    }

    /** Per-round ratios of time per borrow, numerator over denominator, at {@code threads}. */
    public static PairedRatio ratio(List<Slice> slices, Scenario numerator, Scenario denominator, int threads) {
        List<Double> values = new ArrayList<>();
        for (int round : slices.stream().filter(s -> s.threads() == threads).map(Slice::round).distinct().toList()) {
            Slice n = find(slices, numerator, threads, round);
            Slice d = find(slices, denominator, threads, round);
            if (n != null && d != null && n.ops() > 0) {
                values.add(d.opsPerSecond() / n.opsPerSecond());
            }
        }
        if (values.isEmpty()) {
            return null;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new PairedRatio(numerator.id() + "/" + denominator.id(), threads, quantile(v, 0.5), quantile(v, 0.25),
                quantile(v, 0.75), v.length);
    }

    /** Median throughput of a scenario over the rounds. */
    public static double medianOpsPerSecond(List<Slice> slices, Scenario s, int threads) {
        double[] v = slices.stream().filter(x -> x.scenario() == s && x.threads() == threads)
                .mapToDouble(Slice::opsPerSecond).sorted().toArray();
        return v.length == 0 ? Double.NaN : quantile(v, 0.5);
    }

    private static Slice find(List<Slice> slices, Scenario s, int threads, int round) {
        for (Slice x : slices) {
            if (x.scenario() == s && x.threads() == threads && x.round() == round) {
                return x;
            }
        }
        return null;
    }

    static double quantile(double[] sorted, double q) {
        if (sorted.length == 1) {
            return sorted[0];
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    static String describe(PairedRatio r) {
        return String.format(Locale.ROOT, "%-9s %d thr  median %7.3f  (IQR %.3f..%.3f, %d rounds)", r.name(), r.threads(),
                r.median(), r.p25(), r.p75(), r.rounds());
    }

    /** One benchmark thread, reused for every slice. */
    private static final class Worker extends Thread {
        private final int index;
        private final CyclicBarrier start;
        private final CyclicBarrier end;
        private final long[][] sequence;
        private volatile Scenario scenario;
        private volatile Workload workload;
        private volatile long deadline;
        private volatile LongAdder ops;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Worker(int index, CyclicBarrier start, CyclicBarrier end, long[][] sequence) {
            super("interleaved-" + index);
            this.index = index;
            this.start = start;
            this.end = end;
            this.sequence = sequence;
        }

        void assign(Scenario s, Workload w, long until, LongAdder counter) {
            scenario = s;
            workload = w;
            deadline = until;
            ops = counter;
        }

        @Override
        public void run() {
            try {
                while (true) {
                    start.await();
                    Scenario s = scenario;
                    if (s == null) {
                        return;
                    }
                    long n = 0;
                    long[] seq = sequence[s.ordinal()];
                    try {
                        while (System.nanoTime() < deadline) {
                            workload.borrowAndQuery(Callers.forBorrow(s, index, seq[index]++));
                            n++;
                        }
                    } catch (SQLException | RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                    ops.add(n);
                    end.await();
                }
            } catch (InterruptedException | BrokenBarrierException e) {
                // shutting down
            }
        }
    }

    static String summary(List<Slice> slices) {
        StringBuilder sb = new StringBuilder();
        for (int t : slices.stream().map(Slice::threads).distinct().sorted().toList()) {
            for (Scenario s : Scenario.values()) {
                double m = medianOpsPerSecond(slices, s, t);
                if (!Double.isNaN(m)) {
                    sb.append(String.format(Locale.ROOT, "%-50s %d thr  median %9.0f ops/s%n",
                            "(" + s.id() + ") " + s.label(), t, m));
                }
            }
        }
        return sb.toString();
    }

    static double[] sorted(double... v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c;
    }
}
