package dev.proxyra.identity;

import java.lang.ref.SoftReference;
import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * One value per class loader (per application in a server), created on first use. The last loader's value
 * is read without a lock, the common case of one application. Keys are weak and values soft, because a value
 * of an application's class keeps that application's loader reachable: after an undeploy the loader stays
 * reachable from here at most until the heap needs the memory, and a value the heap reclaimed is created
 * again when next asked for.
 */
final class PerClassLoader<V> {

    /** Creates the value for a loader; null: there is none, and nothing is kept. */
    interface Factory<V, X extends Exception> {
        V create(ClassLoader loader) throws X;
    }

    private record Entry<V>(WeakReference<ClassLoader> loader, SoftReference<V> value) {
    }

    private final Map<ClassLoader, SoftReference<V>> values = new WeakHashMap<>();
    private volatile Entry<V> last;

    <X extends Exception> V get(ClassLoader loader, Factory<V, X> factory) throws X {
        Entry<V> recent = last;
        if (recent != null && recent.loader().get() == loader) {
            V value = recent.value().get();
            if (value != null) {
                return value;
            }
        }
        synchronized (values) {
            SoftReference<V> ref = values.get(loader);
            V value = ref == null ? null : ref.get();
            if (value == null) {
                value = factory.create(loader);
                if (value == null) {
                    return null;
                }
                ref = new SoftReference<>(value);
                values.put(loader, ref);
            }
            last = new Entry<>(new WeakReference<>(loader), ref);
            return value;
        }
    }
}
