package dev.proxyra.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;

import javax.security.auth.Subject;

import org.junit.jupiter.api.Test;

/** The parts of the server-native caller sources that need no server. */
class ServerCallerTest {

    /** Shaped as Payara's password credential: the realm of the sign-in. */
    public static final class RealmCredential {
        private final String realm;

        RealmCredential(String realm) {
            this.realm = realm;
        }

        public String getRealm() {
            return realm;
        }
    }

    private static Subject subject(Object... privateCredentials) {
        return new Subject(false, Set.of(), Set.of(), Set.of(privateCredentials));
    }

    /** The administrator the console left on an admin thread is no caller of an application being deployed. */
    @Test
    void aSignInToTheAdministrationRealmIsRecognised() {
        assertThat(ServerCaller.signedInTo(ServerCaller.ADMIN_REALM, subject(new RealmCredential("admin-realm")))).isTrue();
        assertThat(ServerCaller.signedInTo(ServerCaller.ADMIN_REALM,
                subject("a string credential", new RealmCredential("admin-realm")))).isTrue();
    }

    @Test
    void anApplicationRealmsCallerIsACaller() {
        assertThat(ServerCaller.signedInTo(ServerCaller.ADMIN_REALM, subject(new RealmCredential("file")))).isFalse();
        assertThat(ServerCaller.signedInTo(ServerCaller.ADMIN_REALM, subject("no realm here"))).isFalse();
        assertThat(ServerCaller.signedInTo(ServerCaller.ADMIN_REALM, subject())).isFalse();
        assertThat(ServerCaller.signedInTo(ServerCaller.ADMIN_REALM, null)).isFalse();
    }
}
