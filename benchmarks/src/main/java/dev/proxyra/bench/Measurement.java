package dev.proxyra.bench;

/**
 * One JMH trial's figures: throughput of all threads together, its 99.9% confidence half-width as JMH
 * reports it, the allocation per operation when the GC profiler ran and the client's CPU time per operation
 * when {@link CpuTimeProfiler} ran (NaN otherwise).
 */
public record Measurement(Scenario scenario, int threads, double opsPerSecond, double opsPerSecondError,
        int samples, double bytesPerOp, double bytesPerOpError, double cpuMicrosPerOp, double cpuMicrosPerOpError) {

    /** Time one thread spends per borrow, microseconds: threads / throughput. */
    public double microsPerOp() {
        return threads * 1e6 / opsPerSecond;
    }

    /** The confidence half-width of {@link #microsPerOp()}, to first order. */
    public double microsPerOpError() {
        return microsPerOp() * relativeError();
    }

    public double relativeError() {
        return Double.isNaN(opsPerSecondError) || opsPerSecond == 0 ? Double.NaN : opsPerSecondError / opsPerSecond;
    }
}
