package dev.proxyra.bench;

import dev.proxyra.testing.Database;

/** The caller names the benchmarks use: the roles the embedded database seeds. */
public final class Callers {
    /** The one caller of the same-caller scenarios. */
    public static final String SAME = "alice";

    private Callers() {
    }

    /** caller001 ... caller200. */
    public static String numbered(int i) {
        return String.format("caller%03d", 1 + Math.floorMod(i, Database.NUMBERED_CALLERS));
    }

    /**
     * The caller of borrow number {@code sequence} on benchmark thread {@code thread}: always {@link #SAME},
     * or, when callers change, walking through the 200 numbered callers with each thread at its own offset,
     * so consecutive borrows never share a caller and a warm label never matches.
     */
    public static String forBorrow(Scenario scenario, int thread, long sequence) {
        if (!scenario.callerChangesEachBorrow()) {
            return SAME;
        }
        return numbered((int) ((thread * 25L + sequence) % Database.NUMBERED_CALLERS));
    }
}
