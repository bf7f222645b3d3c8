package dev.proxyra.testing;

import java.lang.ref.WeakReference;

/**
 * Whether an object becomes unreachable: System.gc() runs a full, synchronous collection on HotSpot's
 * collectors, which clears weak references to unreachable objects before it returns. A few rounds allow for
 * finalization and reference processing that need more than one collection (class unloading among them).
 */
public final class Collected {
    private static final int ROUNDS = 20;

    private Collected() {
    }

    public static boolean eventually(WeakReference<?> ref) {
        for (int i = 0; i < ROUNDS && ref.get() != null; i++) {
            System.gc();
        }
        return ref.get() == null;
    }
}
