package dev.proxyra.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.spi.InitialContextFactory;

/**
 * A class loader standing for one Jakarta EE component, as a server gives each application or module its own:
 * threads running with it as their context class loader find, through {@code new InitialContext()} and a
 * {@code jndi.properties} only this loader serves, a naming context that answers {@code java:app/AppName} and
 * {@code java:module/ModuleName} with this component's names (a null name: NameNotFoundException, as a server's
 * thread without the component's namespace answers). Nothing JVM-wide is set: other threads see no naming at all.
 */
public final class ComponentLoader extends URLClassLoader {
    private static final Path JNDI_DIR = jndiDir();

    public final String application;
    public final String module;
    /** Lookups of java: names answered under this loader. */
    public final AtomicInteger lookups = new AtomicInteger();

    public ComponentLoader(String application, String module) {
        super(new URL[] {url()}, ComponentLoader.class.getClassLoader());
        this.application = application;
        this.module = module;
    }

    /** Runs {@code work} on this thread as this component (its context class loader), then puts the old one back. */
    public <T> T run(Callable<T> work) throws Exception {
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(this);
        try {
            return work.call();
        } finally {
            t.setContextClassLoader(old);
        }
    }

    private static URL url() {
        try {
            return JNDI_DIR.toUri().toURL();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path jndiDir() {
        try {
            Path dir = Files.createTempDirectory("proxyra-jndi");
            Path file = dir.resolve("jndi.properties");
            Files.writeString(file, Context.INITIAL_CONTEXT_FACTORY + "=" + Naming.class.getName() + "\n");
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The naming provider {@code jndi.properties} names: the calling thread's component answers. */
    public static final class Naming implements InitialContextFactory {
        @Override
        public Context getInitialContext(Hashtable<?, ?> environment) {
            return (Context) java.lang.reflect.Proxy.newProxyInstance(Context.class.getClassLoader(),
                    new Class<?>[] {Context.class}, (self, method, args) -> switch (method.getName()) {
                        case "lookup" -> lookup(String.valueOf(args[0]));
                        case "close" -> null;
                        case "hashCode" -> System.identityHashCode(self);
                        case "equals" -> self == args[0];
                        default -> throw new javax.naming.OperationNotSupportedException(method.getName());
                    });
        }

        private static Object lookup(String name) throws NameNotFoundException {
            if (!(Thread.currentThread().getContextClassLoader() instanceof ComponentLoader component)) {
                throw new NameNotFoundException(name);
            }
            component.lookups.incrementAndGet();
            String value = switch (name) {
                case "java:app/AppName" -> component.application;
                case "java:module/ModuleName" -> component.module;
                default -> null;
            };
            if (value == null) {
                throw new NameNotFoundException(name);
            }
            return value;
        }
    }
}
