package dev.proxyra.identity;

import java.lang.ref.WeakReference;
import java.lang.reflect.Proxy;
import java.util.function.Supplier;

/**
 * One value per class loader (per application in a server), created on first use and kept exactly as long
 * as that loader lives, without keeping it alive: an application's value (its CallerSource, its
 * SecurityContext) references the application's classes, so a map from loader to value would hold the
 * loader for ever, and soft or weak values would hold it until memory runs short, or lose the value at any
 * collection.
 *
 * <p>The value is therefore stored in the loader itself: every loader gets a marker class, the JDK's proxy
 * class of {@link Supplier} defined in it (the JDK caches it in the loader), and the value lives in a
 * {@link ClassValue} of that class, so it is reachable exactly while the loader is. The last loader's
 * marker is held weakly for a lock-free fast path, the common case of one application.
 *
 * @param <V> the value
 * @param <X> what creating a value may throw
 */
final class PerClassLoader<V, X extends Exception> {

    /** Creates the value for a loader; null: there is none, and nothing is kept. */
    interface Factory<V, X extends Exception> {
        V create(ClassLoader loader) throws X;
    }

    private record Last(WeakReference<ClassLoader> loader, WeakReference<Class<?>> marker) {
    }

    /** Carries a failure or a null value out of computeValue, so ClassValue keeps neither. */
    private static final class NotKept extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Exception failure;

        NotKept(Exception failure) {
            super(null, null, false, false);
            this.failure = failure;
        }
    }

    private final ClassValue<V> values;
    private volatile Last last;

    PerClassLoader(Factory<V, X> factory) {
        this.values = new ClassValue<>() {
            @Override
            protected V computeValue(Class<?> marker) {
                V value;
                try {
                    value = factory.create(marker.getClassLoader());
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new NotKept(e);
                }
                if (value == null) {
                    throw new NotKept(null);
                }
                return value;
            }
        };
    }

    /** The value for {@code loader}, created when there is none; null when the factory has none. */
    @SuppressWarnings("unchecked")
    V get(ClassLoader loader) throws X {
        try {
            return values.get(marker(loader));
        } catch (NotKept e) {
            if (e.failure != null) {
                throw (X) e.failure;
            }
            return null;
        }
    }

    @SuppressWarnings("deprecation")
    private Class<?> marker(ClassLoader loader) {
        Last recent = last;
        if (recent != null && recent.loader().get() == loader) {
            Class<?> marker = recent.marker().get();
            if (marker != null) {
                return marker;
            }
        }
        Class<?> marker = Proxy.getProxyClass(loader, Supplier.class);
        last = new Last(new WeakReference<>(loader), new WeakReference<>(marker));
        return marker;
    }
}
