package dev.proxyra.demo;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.security.enterprise.authentication.mechanism.http.BasicAuthenticationMechanismDefinition;
import jakarta.security.enterprise.credential.Credential;
import jakarta.security.enterprise.credential.UsernamePasswordCredential;
import jakarta.security.enterprise.identitystore.CredentialValidationResult;
import jakarta.security.enterprise.identitystore.IdentityStore;

import java.util.Map;
import java.util.Set;

/**
 * The demo's users, checked by HTTP BASIC authentication (Jakarta Security). alice and bob have
 * database roles; carol signs in to the application but has no database role, so proxyra refuses
 * her connections. These are web logins of a demo application, not database passwords: the database
 * knows only the NOLOGIN roles alice and bob and the proxy account.
 */
@ApplicationScoped
@BasicAuthenticationMechanismDefinition(realmName = "proxyra-demo")
public class DemoUsers implements IdentityStore {

    /** user name to password, printed by the demo launcher. */
    public static final Map<String, String> USERS = Map.of(
            "alice", "wonderland",
            "bob", "builder",
            "carol", "singer");

    @Override
    public CredentialValidationResult validate(Credential credential) {
        if (credential instanceof UsernamePasswordCredential c) {
            String expected = USERS.get(c.getCaller());
            if (expected != null && c.compareTo(c.getCaller(), expected)) {
                return new CredentialValidationResult(c.getCaller(), Set.of("user"));
            }
            return CredentialValidationResult.INVALID_RESULT;
        }
        return CredentialValidationResult.NOT_VALIDATED_RESULT;
    }
}
