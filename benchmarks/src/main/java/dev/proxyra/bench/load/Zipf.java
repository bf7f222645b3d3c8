package dev.proxyra.bench.load;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Ranks 0..n-1 drawn with probability proportional to 1/(rank+1)^s: a few callers busy, a long tail. */
public final class Zipf {
    private final double[] cumulative;

    public Zipf(int n, double s) {
        cumulative = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1 / Math.pow(i + 1, s);
            cumulative[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cumulative[i] /= sum;
        }
    }

    public int sample(SplittableRandom random) {
        int i = Arrays.binarySearch(cumulative, random.nextDouble());
        return Math.min(cumulative.length - 1, i >= 0 ? i : -i - 1);
    }

    /** Share of draws that rank {@code i} gets. */
    public double share(int i) {
        return cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]);
    }
}
