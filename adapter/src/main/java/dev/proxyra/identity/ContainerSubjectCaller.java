package dev.proxyra.identity;

import java.util.List;

import javax.security.auth.Subject;

import jakarta.security.jacc.PolicyContext;

/** The caller Subject the container publishes through JACC. */
final class ContainerSubjectCaller implements CallerLookup {
    // Payara 6 registers only the javax key; later servers may use the jakarta one.
    private static final String[] KEYS = {"javax.security.auth.Subject.container", "jakarta.security.auth.Subject.container"};

    @Override
    public String description() {
        return "JACC container Subject";
    }

    @Override
    public List<String> candidates() {
        Subject s = subject();
        return s == null ? List.of() : CallerLookup.names(s.getPrincipals(), null);
    }

    @Override
    public boolean anonymous() {
        Subject s = subject();
        return s != null && s.getPrincipals().stream().anyMatch(CallerLookup::isAnonymous);
    }

    @Override
    public List<String> groups() {
        Subject s = subject();
        return s == null ? List.of() : CallerLookup.groupNames(s.getPrincipals());
    }

    private static Subject subject() {
        for (String key : KEYS) {
            Object subject;
            try {
                subject = PolicyContext.getContext(key);
            } catch (Exception | LinkageError e) {
                continue; // no handler for this key, or no JACC at all
            }
            if (subject instanceof Subject s && !s.getPrincipals().isEmpty()) {
                return s;
            }
        }
        return null;
    }
}
