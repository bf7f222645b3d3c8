package dev.proxyra.bench.load;

import java.util.Arrays;

/**
 * One measured round of one workload against one resource: throughput and latency percentiles, from raw latencies.
 */
public record LoadRound(String workload, String resource, int round, int clients, double seconds, long requests,
        long errors, double requestsPerSecond, double p50Millis, double p99Millis, double meanMillis) {

    static LoadRound of(String workload, String resource, int round, int clients, double seconds, long[] latenciesNanos,
            long errors) {
        long[] sorted = latenciesNanos.clone();
        Arrays.sort(sorted);
        double mean = sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN) / 1e6;
        return new LoadRound(workload, resource, round, clients, seconds, sorted.length, errors, sorted.length / seconds,
                percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6, mean);
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
