package dev.proxyra.identity;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;

import javax.security.auth.Subject;

/**
 * The caller as the application server itself knows it, through its own API, reached reflectively so that
 * the rar loads on every server: the one that works for every kind of application (a servlet war that is not a
 * CDI archive and does not use Jakarta Security, an EJB, a task of a ManagedExecutorService, JPA), and that
 * says for certain when the thread is anonymous. Exactly one of these exists per server. In an EJB with
 * {@code @RunAs} each reports the identity the code runs as.
 */
abstract class ServerCaller implements CallerLookup {

    /** The server's caller source, or null on a server without one of these APIs. */
    static ServerCaller forThisServer() {
        ClassLoader loader = ServerCaller.class.getClassLoader();
        for (ServerCaller candidate : new ServerCaller[] {new Payara(), new Elytron(), new Liberty()}) {
            try {
                if (candidate.bind(loader)) {
                    return candidate;
                }
            } catch (ReflectiveOperationException | LinkageError | RuntimeException notThisServer) {
                // its API is not here
            }
        }
        return null;
    }

    /** Looks its API up; false when this is not its server. */
    abstract boolean bind(ClassLoader loader) throws ReflectiveOperationException;

    static Object call(Method method, Object target, Object... args) throws CallerResolutionException {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw new CallerResolutionException("the server's security API failed: " + e.getCause(), e.getCause());
        } catch (IllegalAccessException | RuntimeException e) {
            throw new CallerResolutionException("the server's security API cannot be called: " + e, e);
        }
    }

    private static Method method(Class<?> type, String name, Class<?>... params) throws NoSuchMethodException {
        return type.getMethod(name, params);
    }

    /**
     * Payara (and GlassFish): {@code com.sun.enterprise.security.SecurityContext.getCurrent()}, set for every
     * servlet and EJB call. Anonymous is the default context (its principal, "ANONYMOUS", is configurable). A context
     * signed in to the administration realm is no application caller either: Payara leaves the console's
     * administrator on admin threads, where an application's persistence unit may log in while it deploys.
     */
    static final class Payara extends ServerCaller {
        private Method current;
        private Method defaultContext;
        private Method callerPrincipal;
        private Method serverGenerated;
        private Method subject;

        @Override
        boolean bind(ClassLoader loader) throws ReflectiveOperationException {
            Class<?> type = Class.forName("com.sun.enterprise.security.SecurityContext", false, loader);
            current = method(type, "getCurrent");
            defaultContext = method(type, "getDefaultSecurityContext");
            callerPrincipal = method(type, "getCallerPrincipal");
            serverGenerated = method(type, "didServerGenerateCredentials");
            subject = method(type, "getSubject");
            return true;
        }

        @Override
        public String description() {
            return "Payara SecurityContext";
        }

        private Object context() throws CallerResolutionException {
            Object context = call(current, null);
            return context == null || context == call(defaultContext, null)
                    || Boolean.TRUE.equals(call(serverGenerated, context))
                    || signedInTo(ADMIN_REALM, (Subject) call(subject, context)) ? null : context;
        }

        @Override
        public boolean anonymous() throws CallerResolutionException {
            return context() == null;
        }

        @Override
        public List<String> candidates() throws CallerResolutionException {
            Object context = context();
            Principal p = context == null ? null : (Principal) call(callerPrincipal, context);
            return p == null || p.getName() == null ? List.of() : List.of(p.getName());
        }

        @Override
        public List<String> groups() throws CallerResolutionException {
            Object context = context();
            Subject s = context == null ? null : (Subject) call(subject, context);
            return s == null ? List.of() : CallerLookup.groupNames(s.getPrincipals());
        }
    }

    /** Payara's administration realm (security-service admin-realm). */
    static final String ADMIN_REALM = "admin-realm";

    /**
     * Whether {@code subject} signed in to {@code realm}: Payara records the realm of a sign-in in the password
     * credential it keeps among the subject's private credentials ({@code getRealm()}).
     */
    static boolean signedInTo(String realm, Subject subject) {
        if (subject == null) {
            return false;
        }
        for (Object credential : subject.getPrivateCredentials()) {
            try {
                Method getRealm = credential.getClass().getMethod("getRealm");
                if (realm.equals(getRealm.invoke(credential))) {
                    return true;
                }
            } catch (ReflectiveOperationException | RuntimeException notACredentialWithARealm) {
                // another kind of credential
            }
        }
        return false;
    }

    /**
     * WildFly (Elytron): {@code SecurityDomain.getCurrent().getCurrentSecurityIdentity()}. The domain is found
     * through the thread's context class loader: null off a deployment's thread, where this source knows nothing.
     */
    static final class Elytron extends ServerCaller {
        private Method currentDomain;
        private Method currentIdentity;
        private Method isAnonymous;
        private Method principal;
        private Method roles;

        @Override
        boolean bind(ClassLoader loader) throws ReflectiveOperationException {
            Class<?> domain = Class.forName("org.wildfly.security.auth.server.SecurityDomain", false, loader);
            Class<?> identity = Class.forName("org.wildfly.security.auth.server.SecurityIdentity", false, loader);
            currentDomain = method(domain, "getCurrent");
            currentIdentity = method(domain, "getCurrentSecurityIdentity");
            isAnonymous = method(identity, "isAnonymous");
            principal = method(identity, "getPrincipal");
            roles = method(identity, "getRoles");
            return true;
        }

        @Override
        public String description() {
            return "WildFly Elytron SecurityIdentity";
        }

        private Object identity() throws CallerResolutionException {
            Object domain = call(currentDomain, null);
            return domain == null ? null : call(currentIdentity, domain);
        }

        @Override
        public boolean anonymous() throws CallerResolutionException {
            Object identity = identity();
            return identity != null && Boolean.TRUE.equals(call(isAnonymous, identity));
        }

        @Override
        public List<String> candidates() throws CallerResolutionException {
            Object identity = identity();
            if (identity == null || Boolean.TRUE.equals(call(isAnonymous, identity))) {
                return List.of();
            }
            Principal p = (Principal) call(principal, identity);
            return p == null || p.getName() == null ? List.of() : List.of(p.getName());
        }

        @Override
        public List<String> groups() throws CallerResolutionException {
            Object identity = identity();
            List<String> names = new ArrayList<>();
            if (identity != null && call(roles, identity) instanceof Iterable<?> all) {
                all.forEach(r -> names.add(String.valueOf(r)));
            }
            return names;
        }
    }

    /**
     * Open Liberty: {@code WSSubject.getRunAsSubject()}, the identity the code runs as (the caller, or the
     * run-as identity inside an EJB with {@code @RunAs}). Unauthenticated is a subject whose WSCredential says
     * so (its principal is named "UNAUTHENTICATED" by default); groups live in the credential, not the principals.
     */
    static final class Liberty extends ServerCaller {
        private Method runAsSubject;
        private Class<?> credential;
        private Method isUnauthenticated;
        private Method securityName;
        private Method groupIds;
        private Method securityEnabled;

        @Override
        boolean bind(ClassLoader loader) throws ReflectiveOperationException {
            Class<?> subject = Class.forName("com.ibm.websphere.security.auth.WSSubject", false, loader);
            runAsSubject = method(subject, "getRunAsSubject");
            credential = Class.forName("com.ibm.websphere.security.cred.WSCredential", false, loader);
            isUnauthenticated = method(credential, "isUnauthenticated");
            securityName = method(credential, "getSecurityName");
            groupIds = method(credential, "getGroupIds");
            securityEnabled = method(Class.forName("com.ibm.websphere.security.WSSecurityHelper", false, loader),
                    "isServerSecurityEnabled");
            return true;
        }

        @Override
        public String description() {
            return "Open Liberty WSSubject";
        }

        /** The run-as subject's credential, or null when it is unauthenticated or there is none. */
        private Object credential() throws CallerResolutionException {
            Subject s = (Subject) call(runAsSubject, null);
            if (s == null) {
                return null;
            }
            for (Object c : s.getPublicCredentials(credential)) {
                return Boolean.TRUE.equals(call(isUnauthenticated, c)) ? null : c;
            }
            return null;
        }

        @Override
        public boolean anonymous() throws CallerResolutionException {
            return Boolean.TRUE.equals(call(securityEnabled, null)) && credential() == null;
        }

        @Override
        public List<String> candidates() throws CallerResolutionException {
            Object c = credential();
            Object name = c == null ? null : call(securityName, c);
            return name == null ? List.of() : List.of(name.toString());
        }

        @Override
        public List<String> groups() throws CallerResolutionException {
            Object c = credential();
            List<String> names = new ArrayList<>();
            if (c != null && call(groupIds, c) instanceof List<?> ids) {
                ids.forEach(g -> names.add(String.valueOf(g)));
            }
            return names;
        }
    }
}
