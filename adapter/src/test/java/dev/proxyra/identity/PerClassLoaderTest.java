package dev.proxyra.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class PerClassLoaderTest {
    private final PerClassLoader<Object> cache = new PerClassLoader<>();
    private final AtomicInteger created = new AtomicInteger();

    private Object create(ClassLoader loader) {
        created.incrementAndGet();
        return new Object();
    }

    @Test
    void eachLoaderGetsItsOwnValueCreatedOnce() throws Exception {
        try (URLClassLoader first = new URLClassLoader(new URL[0]); URLClassLoader second = new URLClassLoader(new URL[0])) {
            Object a = cache.get(first, this::create);
            Object b = cache.get(second, this::create);
            assertThat(b).isNotSameAs(a);
            // alternating loaders: the lock-free last-used entry and the map must agree
            for (int i = 0; i < 3; i++) {
                assertThat(cache.get(first, this::create)).isSameAs(a);
                assertThat(cache.get(second, this::create)).isSameAs(b);
            }
            assertThat(created).hasValue(2);
        }
    }

    @Test
    void noValueAndFailuresAreNotKept() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[0])) {
            assertThat(cache.get(loader, l -> null)).isNull();
            assertThatThrownBy(() -> cache.get(loader, l -> {
                throw new CallerResolutionException("cannot load", null);
            })).isInstanceOf(CallerResolutionException.class);
            Object value = cache.get(loader, this::create);
            assertThat(value).isNotNull();
            assertThat(cache.get(loader, this::create)).isSameAs(value);
            assertThat(created).hasValue(1);
        }
    }
}
