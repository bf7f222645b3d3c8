package dev.proxyra.testing;

import java.lang.ref.WeakReference;

/**
 * Whether an object becomes unreachable: System.gc() runs a full, synchronous collection on HotSpot's
 * collectors, which clears weak references to unreachable objects before it returns. Rounds of collections and
 * finalization allow for what needs more than one collection (a finalizer that holds an object, class unloading).
 */
public final class Collected {
    /**
     * Collections go on until this long has passed: a holder can let go asynchronously on a busy machine (a JIT
     * compilation queued for one of the loader's methods keeps its class until it is compiled; a thread that was
     * told to end), and one clean-clone build on 2 busy cores once still held an adapter loader after 50 quick rounds.
     * A real leak holds on for ever and still fails.
     */
    private static final long PATIENCE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
    private static final int MIN_ROUNDS = 50;

    private Collected() {
    }

    /** Finalizers that hold an object (e.g. java.util.Timer's thread reaper) run before the next collection. */
    @SuppressWarnings({"deprecation", "removal"})
    private static void runFinalization() {
        System.runFinalization();
    }

    public static boolean eventually(WeakReference<?> ref) {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        for (int i = 0; ref.get() != null && (i < MIN_ROUNDS || System.nanoTime() < deadline); i++) {
            System.gc();
            runFinalization();
        }
        return ref.get() == null;
    }
}
