package dev.proxyra.bench.web;

import java.util.Set;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.security.enterprise.authentication.mechanism.http.BasicAuthenticationMechanismDefinition;
import jakarta.security.enterprise.credential.Credential;
import jakarta.security.enterprise.credential.UsernamePasswordCredential;
import jakarta.security.enterprise.identitystore.CredentialValidationResult;
import jakarta.security.enterprise.identitystore.IdentityStore;

/**
 * HTTP BASIC sign-in for the load test's callers: caller001 ... caller200 (the embedded database's roles),
 * all with the web password {@value #PASSWORD}. A web login of the benchmark application, not a database password.
 */
@ApplicationScoped
@BasicAuthenticationMechanismDefinition(realmName = "proxyra-bench")
public class BenchCallers implements IdentityStore {
    /** Compiled once: String.matches compiles its pattern on every request of every resource. */
    private static final Pattern CALLER = Pattern.compile("caller\\d{3}");

    public static final String PASSWORD = "bench";

    @Override
    public CredentialValidationResult validate(Credential credential) {
        if (credential instanceof UsernamePasswordCredential c) {
            String name = c.getCaller();
            if (name != null && CALLER.matcher(name).matches() && c.compareTo(name, PASSWORD)) {
                return new CredentialValidationResult(name, Set.of("user"));
            }
            return CredentialValidationResult.INVALID_RESULT;
        }
        return CredentialValidationResult.NOT_VALIDATED_RESULT;
    }
}
