package dev.proxyra.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.proxyra.testing.Collected;

class PerClassLoaderTest {
    private final AtomicInteger created = new AtomicInteger();
    private final AtomicReference<Object> next = new AtomicReference<>();

    private Object create(ClassLoader loader) throws CallerResolutionException {
        Object value = next.get();
        if (value instanceof CallerResolutionException e) {
            throw e;
        }
        if (value == NONE) {
            return null;
        }
        created.incrementAndGet();
        return new Object();
    }

    private static final Object NONE = new Object();
    private final PerClassLoader<Object, CallerResolutionException> cache = new PerClassLoader<>(this::create);

    @Test
    void eachLoaderGetsItsOwnValueCreatedOnce() throws Exception {
        try (URLClassLoader first = new URLClassLoader(new URL[0]); URLClassLoader second = new URLClassLoader(new URL[0])) {
            Object a = cache.get(first);
            Object b = cache.get(second);
            assertThat(b).isNotSameAs(a);
            // alternating loaders: the lock-free last-used entry and the per-loader store must agree
            for (int i = 0; i < 3; i++) {
                assertThat(cache.get(first)).isSameAs(a);
                assertThat(cache.get(second)).isSameAs(b);
            }
            assertThat(created).hasValue(2);
        }
    }

    @Test
    void noValueAndFailuresAreNotKept() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[0])) {
            next.set(NONE);
            assertThat(cache.get(loader)).isNull();
            next.set(new CallerResolutionException("cannot load", null));
            assertThatThrownBy(() -> cache.get(loader)).isInstanceOf(CallerResolutionException.class);
            next.set(null);
            Object value = cache.get(loader);
            assertThat(value).isNotNull();
            assertThat(cache.get(loader)).isSameAs(value);
            assertThat(created).hasValue(1);
        }
    }

    /** The attack on the cache: a value that references its own loader must not keep that loader alive. */
    @Test
    void aValueReferencingItsLoaderDoesNotKeepTheLoaderAlive() throws Exception {
        PerClassLoader<Object, RuntimeException> holding = new PerClassLoader<>(loader -> new Object[] {loader});
        URLClassLoader loader = new URLClassLoader(new URL[0]);
        Object value = holding.get(loader);
        assertThat(((Object[]) value)[0]).isSameAs(loader);
        assertThat(holding.get(loader)).as("kept while the loader lives").isSameAs(value);
        WeakReference<ClassLoader> ref = new WeakReference<>(loader);
        loader.close();
        loader = null;
        value = null;
        assertThat(Collected.eventually(ref)).as("the loader was collected although the cache holds its value").isTrue();
    }
}
