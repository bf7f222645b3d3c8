package dev.proxyra.identity;

import java.util.List;

/** The {@code CallerSource} property: an application class, one instance per class loader that sees it. */
final class ConfiguredCallerSource implements CallerLookup {
    private final String className;
    private final String description;
    private final PerClassLoader<CallerSource, CallerResolutionException> instances = new PerClassLoader<>(this::load);

    ConfiguredCallerSource(String className) {
        this.className = className;
        this.description = "CallerSource " + className;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public List<String> candidates() throws CallerResolutionException {
        String name;
        try {
            name = instance().currentCaller();
        } catch (RuntimeException e) {
            throw new CallerResolutionException("CallerSource " + className + " failed: " + e, e);
        }
        return name == null ? List.of() : List.of(name);
    }

    private CallerSource instance() throws CallerResolutionException {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return instances.get(tccl != null ? tccl : ConfiguredCallerSource.class.getClassLoader());
    }

    /** The application's class if its loader (the thread's context loader) sees one, else the adapter's. */
    private CallerSource load(ClassLoader application) throws CallerResolutionException {
        Class<?> type = null;
        Throwable failure = null;
        for (ClassLoader loader : new ClassLoader[] {application, ConfiguredCallerSource.class.getClassLoader()}) {
            if (loader == null) {
                continue;
            }
            try {
                type = Class.forName(className, true, loader);
                break;
            } catch (ClassNotFoundException | LinkageError e) {
                failure = e;
            }
        }
        if (type == null) {
            throw new CallerResolutionException("the class named by property CallerSource, '" + className
                    + "', cannot be loaded by the application's or the adapter's class loader", failure, true);
        }
        if (!CallerSource.class.isAssignableFrom(type)) {
            throw new CallerResolutionException("the class named by property CallerSource, '" + className
                    + "', does not implement " + CallerSource.class.getName(), null, true);
        }
        try {
            return (CallerSource) type.getConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new CallerResolutionException("the class named by property CallerSource, '" + className
                    + "', cannot be instantiated (it needs a public no-argument constructor): " + e, e, true);
        }
    }
}
