package dev.proxyra.identity;

import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.naming.NoInitialContextException;

/**
 * The Jakarta EE names of the component that asked for a connection: its application ({@code java:app/AppName})
 * and its module ({@code java:module/ModuleName}), each null when the container does not say. What the Oracle
 * dialect sets as the session's MODULE and ACTION (EndToEndTags=APPLICATION); never part of the identity a
 * session is labelled and reused by.
 *
 * @param application the application name, or null
 * @param module      the module name, or null
 */
public record ComponentNames(String application, String module) {

    /** Neither name: outside a container, or a thread without a component's naming context. */
    public static final ComponentNames NONE = new ComponentNames(null, null);

    /**
     * Per thread context class loader (one per application or module in a server): the names, looked up once. A
     * thread with no naming provider at all (outside a container) is kept as NONE too: no lookup per request.
     */
    private static final PerClassLoader<ComponentNames, RuntimeException> CACHE =
            new PerClassLoader<>(loader -> lookUp());

    /** The names of the component on the calling thread; NONE when there are none. */
    public static ComponentNames ofCaller() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        ComponentNames names = tccl == null ? null : CACHE.get(tccl);
        return names != null ? names : NONE;
    }

    /**
     * Null (nothing kept, the next request looks again) when a naming provider is there but names neither: a thread
     * of the server's that carries an application's class loader without its component's java: namespace would
     * otherwise leave that application untagged for as long as its loader lives.
     */
    private static ComponentNames lookUp() {
        InitialContext context;
        try {
            context = new InitialContext();
        } catch (NamingException | RuntimeException | LinkageError e) {
            return NONE;
        }
        try {
            String application = name(context, "java:app/AppName");
            String module = name(context, "java:module/ModuleName");
            return application == null && module == null ? null : new ComponentNames(application, module);
        } catch (NoInitialContextException e) {
            return NONE; // no naming provider on this thread: not in a container
        } finally {
            try {
                context.close();
            } catch (NamingException | RuntimeException e) {
                // nothing held
            }
        }
    }

    private static String name(InitialContext context, String jndiName) throws NoInitialContextException {
        try {
            Object value = context.lookup(jndiName);
            return value instanceof String s && !s.isEmpty() ? s : null;
        } catch (NoInitialContextException e) {
            throw e;
        } catch (NamingException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
