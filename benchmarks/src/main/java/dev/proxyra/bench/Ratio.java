package dev.proxyra.bench;

/**
 * Time per borrow of {@code numerator} divided by that of {@code denominator}, at the same thread count and
 * from the same run (equal to the inverse ratio of throughputs). 1.10 means 10% slower. The error is the
 * two relative confidence half-widths combined in quadrature: an approximation, good enough to see whether a
 * difference is real.
 */
public record Ratio(String name, String meaning, int threads, double value, double error, Double target,
        String targetKind) {

    static Ratio of(String meaning, Measurement numerator, Measurement denominator, Double target, String targetKind) {
        double value = denominator.opsPerSecond() / numerator.opsPerSecond();
        double rel = Math.sqrt(square(numerator.relativeError()) + square(denominator.relativeError()));
        return new Ratio(numerator.scenario().id() + "/" + denominator.scenario().id(), meaning, numerator.threads(),
                value, value * rel, target, targetKind);
    }

    private static double square(double x) {
        return x * x;
    }

    /** Whether the target is met, or null when there is none. */
    public Boolean targetMet() {
        if (target == null) {
            return null;
        }
        return "max".equals(targetKind) ? value <= target : value >= target;
    }
}
