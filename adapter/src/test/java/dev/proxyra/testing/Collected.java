package dev.proxyra.testing;

import java.lang.ref.WeakReference;

/**
 * Whether an object becomes unreachable: System.gc() runs a full, synchronous collection on HotSpot's
 * collectors, which clears weak references to unreachable objects before it returns. Rounds of collections and
 * finalization allow for what needs more than one collection (a finalizer that holds an object, class unloading).
 */
public final class Collected {
    private static final int ROUNDS = 50;

    private Collected() {
    }

    /** Finalizers that hold an object (e.g. java.util.Timer's thread reaper) run before the next collection. */
    @SuppressWarnings({"deprecation", "removal"})
    private static void runFinalization() {
        System.runFinalization();
    }

    public static boolean eventually(WeakReference<?> ref) {
        for (int i = 0; i < ROUNDS && ref.get() != null; i++) {
            System.gc();
            runFinalization();
        }
        return ref.get() == null;
    }
}
