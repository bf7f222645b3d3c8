package dev.proxyra.bench.load;

import java.util.Arrays;

/**
 * One measured round of one workload against one resource: throughput and latency percentiles, from raw latencies, and
 * the CPU each party spent per request ({@code cpu} null where it was not measured).
 */
public record LoadRound(String workload, String resource, int round, int clients, double seconds, long requests,
        long errors, double requestsPerSecond, double p50Millis, double p99Millis, double meanMillis, CpuPerRequest cpu) {

    /** CPU milliseconds per request of the server JVM, the database and the HTTP clients, over the measured window. */
    public record CpuPerRequest(double serverMillis, double databaseMillis, double clientMillis) {
        static CpuPerRequest of(CpuMeter.Sample used, long requests) {
            return requests == 0 ? null : new CpuPerRequest(used.serverNanos() / 1e6 / requests,
                    used.databaseNanos() / 1e6 / requests, used.clientNanos() / 1e6 / requests);
        }

        public double totalMillis() {
            return serverMillis + databaseMillis + clientMillis;
        }
    }

    static LoadRound of(String workload, String resource, int round, int clients, double seconds, long[] latenciesNanos,
            long errors) {
        return of(workload, resource, round, clients, seconds, latenciesNanos, errors, null);
    }

    /** {@code cpu}: the window's CPU over the requests completed in it, or null. */
    static LoadRound of(String workload, String resource, int round, int clients, double seconds, long[] latenciesNanos,
            long errors, CpuPerRequest cpu) {
        long[] sorted = latenciesNanos.clone();
        Arrays.sort(sorted);
        double mean = sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN) / 1e6;
        return new LoadRound(workload, resource, round, clients, seconds, sorted.length, errors, sorted.length / seconds,
                percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6, mean,
                cpu);
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
