package dev.proxyra.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.Principal;
import java.sql.SQLException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.proxyra.config.ConfigResolver;
import dev.proxyra.config.ExternalConfig;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.config.Setting;

class IdentityResolverTest {

    private static ProxyraConfig config(String url, Object... pairs) {
        Map<Setting, Object> m = new EnumMap<>(Setting.class);
        m.put(Setting.URL, url);
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((Setting) pairs[i], pairs[i + 1]);
        }
        return ConfigResolver.resolve(m, ExternalConfig.NONE);
    }

    private static ProxyraConfig pg(Object... pairs) {
        return config("jdbc:postgresql://h/db", pairs);
    }

    private static ProxyraConfig oracle(Object... pairs) {
        return config("jdbc:oracle:thin:@//h:1521/s", pairs);
    }

    private static CallerLookup source(String name, String... candidates) {
        return new CallerLookup() {
            @Override
            public String description() {
                return name;
            }

            @Override
            public List<String> candidates() {
                return List.of(candidates);
            }
        };
    }

    private static String state(Throwable e) {
        return ((SQLException) e).getSQLState();
    }

    /**
     * EndToEndTags: on Oracle (APPLICATION, the default) the identity carries the requesting component's names, in
     * every kind of request; with NONE, and on PostgreSQL, none. The label stays the caller's.
     */
    @Test
    void theComponentsNamesTravelWithTheIdentityOnlyOnOracleWithApplication() throws Exception {
        dev.proxyra.testing.ComponentLoader erp = new dev.proxyra.testing.ComponentLoader("erp", "erp-web.war");
        DbIdentity tagged = erp.run(() -> new IdentityResolver(oracle(), List.of(source("s", "alice"))).resolve());
        assertThat(tagged.component()).isEqualTo(new ComponentNames("erp", "erp-web.war"));
        assertThat(tagged.label()).isEqualTo(DbIdentity.of("ALICE", "alice").label());
        assertThat(tagged.sameSession(DbIdentity.of("ALICE", "alice"))).isTrue();
        assertThat(erp.run(() -> new IdentityResolver(oracle(Setting.ALLOW_EXPLICIT_USER, true), List.of())
                .resolveExplicit("ALICE", "secret")).component()).isEqualTo(new ComponentNames("erp", "erp-web.war"));
        assertThat(erp.run(() -> new IdentityResolver(oracle(Setting.UNAUTHENTICATED_ACCESS, "PROXY_USER"), List.of())
                .resolve()).component()).isEqualTo(new ComponentNames("erp", "erp-web.war"));
        assertThat(erp.run(() -> new IdentityResolver(oracle(Setting.END_TO_END_TAGS, "NONE"),
                List.of(source("s", "alice"))).resolve()).component()).isNull();
        assertThat(erp.run(() -> new IdentityResolver(pg(), List.of(source("s", "alice"))).resolve()).component()).isNull();
        assertThat(new IdentityResolver(oracle(), List.of(source("s", "alice"))).resolve().component())
                .as("no naming here: outside a container").isEqualTo(ComponentNames.NONE);
    }

    @Test
    void theFirstSourceThatKnowsTheCallerWins() throws SQLException {
        IdentityResolver r = new IdentityResolver(pg(), List.of(source("first"), source("second", "alice"),
                source("third", "bob")));
        assertThat(r.resolve()).isEqualTo(DbIdentity.of("alice", "alice"));
    }

    @Test
    void aPrefixSelectsPrincipalsAndIsStrippedAsInTheSeed() throws SQLException {
        IdentityResolver r = new IdentityResolver(pg(Setting.PRINCIPAL_PREFIX, "example."),
                List.of(source("jacc", "system.Everyone", "example.alice")));
        assertThat(r.resolve().databaseUser()).isEqualTo("alice");
    }

    @Test
    void withAPrefixPrincipalsWithoutItDoNotCount() {
        IdentityResolver r = new IdentityResolver(pg(Setting.PRINCIPAL_PREFIX, "example."),
                List.of(source("jacc", "system.Everyone", "alice")));
        assertThatThrownBy(r::resolve)
                .hasMessageContaining("no principal starting with PrincipalPrefix 'example.' among [system.Everyone, alice]")
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
    }

    @Test
    void mapThenCase() throws SQLException {
        IdentityResolver r = new IdentityResolver(oracle(Setting.PRINCIPAL_MAP, "alice=Alice_Db"),
                List.of(source("s", "alice")));
        assertThat(r.resolve().databaseUser()).isEqualTo("Alice_Db");
        IdentityResolver upper = new IdentityResolver(oracle(), List.of(source("s", "bob")));
        assertThat(upper.resolve().databaseUser()).isEqualTo("BOB");
        IdentityResolver lower = new IdentityResolver(pg(Setting.PRINCIPAL_CASE, "lower"), List.of(source("s", "BoB")));
        assertThat(lower.resolve().databaseUser()).isEqualTo("bob");
    }

    @Test
    void roleMapTurnsTheCallersGroupsIntoProxyRolesAndTheLabelSeparatesThem() throws SQLException {
        CallerLookup withGroups = new CallerLookup() {
            @Override
            public String description() {
                return "s";
            }

            @Override
            public List<String> candidates() {
                return List.of("alice", "managers", "staff");
            }

            @Override
            public List<String> groups() {
                return List.of("managers", "staff", "unmapped");
            }
        };
        IdentityResolver r = new IdentityResolver(oracle(Setting.ROLE_MAP, "staff=ERP_STAFF,managers=ERP_MANAGER"),
                List.of(withGroups));
        DbIdentity id = r.resolve();
        assertThat(id.databaseUser()).isEqualTo("ALICE");
        assertThat(id.roles()).containsExactly("ERP_MANAGER", "ERP_STAFF");
        assertThat(id.sameSession(DbIdentity.of("ALICE", "alice"))).isFalse();
        assertThat(id.label()).isEqualTo("ALICE roles=ERP_MANAGER,ERP_STAFF");
    }

    @Test
    void requirePrincipalMappingRefusesUnmappedCallers() {
        IdentityResolver r = new IdentityResolver(pg(Setting.PRINCIPAL_MAP, "alice=a1", Setting.REQUIRE_PRINCIPAL_MAPPING, true),
                List.of(source("s", "bob")));
        assertThatThrownBy(r::resolve).hasMessageContaining("caller 'bob' (from s) is not in PrincipalMap")
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
    }

    @Test
    void noCallerIsRefusedNamingEverySourceTried() {
        IdentityResolver r = new IdentityResolver(pg(), List.of(source("CallerSource x.Y"), source("Jakarta Security")));
        assertThatThrownBy(r::resolve)
                .hasMessage("proxyra: no caller could be resolved for this connection request (tried CallerSource x.Y:"
                        + " no caller; Jakarta Security: no caller); UnauthenticatedAccess=DENY refuses to connect"
                        + " without a caller")
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
    }

    @Test
    void proxyUserAccessGivesTheProxyAccountOnlyWhenAsked() throws SQLException {
        IdentityResolver r = new IdentityResolver(pg(Setting.UNAUTHENTICATED_ACCESS, "PROXY_USER"), List.of(source("s")));
        assertThat(r.resolve()).isSameAs(DbIdentity.PROXY_ACCOUNT);
    }

    @Test
    void aBrokenSourceFailsTheRequestInsteadOfFallingThrough() {
        CallerLookup broken = new CallerLookup() {
            @Override
            public String description() {
                return "broken";
            }

            @Override
            public List<String> candidates() throws CallerResolutionException {
                throw new CallerResolutionException("CallerSource boom failed", new IllegalStateException("boom"));
            }
        };
        IdentityResolver r = new IdentityResolver(pg(), List.of(broken, source("fallback", "alice")));
        assertThatThrownBy(r::resolve).hasMessageContaining("the caller cannot be resolved: CallerSource boom failed")
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
    }

    @Test
    void aCallerSourceClassThatCannotBeLoadedNamesTheProperty() {
        IdentityResolver r = new IdentityResolver(pg(Setting.CALLER_SOURCE, "com.example.Missing"));
        assertThatThrownBy(r::resolve)
                .hasMessageContaining("the class named by property CallerSource, 'com.example.Missing', cannot be loaded")
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
        IdentityResolver notASource = new IdentityResolver(pg(Setting.CALLER_SOURCE, "java.lang.String"));
        assertThatThrownBy(notASource::resolve).hasMessageContaining("does not implement dev.proxyra.identity.CallerSource");
    }

    public static final class Throwing implements CallerSource {
        @Override
        public String currentCaller() {
            throw new IllegalStateException("no request on this thread");
        }
    }

    @Test
    void aCallerSourceThatThrowsFailsClosed() {
        IdentityResolver r = new IdentityResolver(pg(Setting.CALLER_SOURCE, Throwing.class.getName()));
        assertThatThrownBy(r::resolve).hasMessageContaining("no request on this thread")
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"));
    }

    @Test
    void namesAreValidatedAgainstTheDatabaseLimits() throws SQLException {
        assertThat(new IdentityResolver(oracle(), List.of(source("s", "a".repeat(128)))).resolve().databaseUser()).hasSize(128);
        assertThatThrownBy(() -> new IdentityResolver(oracle(), List.of(source("s", "a".repeat(129)))).resolve())
                .hasMessageContaining("is 129 bytes long; oracle allows at most 128");
        // 32 two-byte characters are 64 bytes: over PostgreSQL's 63.
        assertThatThrownBy(() -> new IdentityResolver(pg(), List.of(source("s", "é".repeat(32)))).resolve())
                .hasMessageContaining("is 64 bytes long; postgresql allows at most 63");
        assertThatThrownBy(() -> new IdentityResolver(pg(), List.of(source("s", "a\tb"))).resolve())
                .hasMessageContaining("contains a control character (U+0009)")
                .hasMessageContaining("'a\\u0009b'");
    }

    @Test
    void explicitUsersNeedPermissionAndOraclePasswordsAreKept() throws SQLException {
        assertThatThrownBy(() -> new IdentityResolver(oracle(), List.of()).resolveExplicit("scott", "tiger"))
                .hasMessageContaining("AllowExplicitUser=true").hasMessageNotContaining("tiger");
        DbIdentity id = new IdentityResolver(oracle(Setting.ALLOW_EXPLICIT_USER, true), List.of()).resolveExplicit("scott", "tiger");
        assertThat(id.databaseUser()).isEqualTo("SCOTT");
        assertThat(id.password()).isEqualTo("tiger");
        assertThat(id.toString()).doesNotContain("tiger");
    }

    @Test
    void groupPrincipalsAreNeverCallerCandidates() {
        Principal group = new GroupPrincipal("admins");
        Principal user = () -> "alice";
        assertThat(CallerLookup.names(List.of(group, user), null)).containsExactly("alice");
        assertThat(CallerLookup.groupNames(List.of(group, user))).containsExactly("admins");
    }

    /** The attack: bob is in group example.dba; with PrincipalPrefix=example. he must not become database user dba. */
    @Test
    void principalPrefixNeverPicksAGroupAsTheCaller() throws SQLException {
        Principal bob = () -> "bob";
        Principal dbaGroup = new GroupPrincipal("example.dba");
        CallerLookup subject = new CallerLookup() {
            @Override
            public String description() {
                return "JACC container Subject";
            }

            @Override
            public List<String> candidates() {
                return CallerLookup.names(List.of(bob, dbaGroup), null);
            }
        };
        IdentityResolver resolver = new IdentityResolver(pg(Setting.PRINCIPAL_PREFIX, "example."), List.of(subject));
        assertThatThrownBy(resolver::resolve).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("no principal starting with PrincipalPrefix 'example.' among [bob]");
    }

    /** The attack of an anonymous request on WildFly: the portable APIs name a principal "anonymous". */
    @Test
    void aServersAnonymousPrincipalIsNeverTheCaller() {
        Principal anonymous = new org.wildfly.security.auth.principal.AnonymousPrincipal();
        assertThat(CallerLookup.isAnonymous(anonymous)).isTrue();
        assertThat(CallerLookup.names(List.of(anonymous), anonymous)).isEmpty();
        // a user who is really called anonymous is a user
        Principal user = () -> "anonymous";
        assertThat(CallerLookup.names(List.of(user), user)).containsExactly("anonymous");
    }

    @Test
    void whenTheServerSaysNobodySignedInTheChainStopsThere() {
        CallerLookup server = new CallerLookup() {
            @Override
            public String description() {
                return "the server";
            }

            @Override
            public List<String> candidates() {
                return List.of();
            }

            @Override
            public boolean anonymous() {
                return true;
            }
        };
        // a weaker source after it that would present the anonymous principal as a caller is never asked
        IdentityResolver r = new IdentityResolver(pg(), List.of(server, source("portable", "anonymous")));
        assertThatThrownBy(r::resolve).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(state(e)).isEqualTo("28000"))
                .hasMessageContaining("the server: anonymous (nobody signed in)")
                .hasMessageNotContaining("portable");
    }

    @Test
    void withMetadataOnlyARequestWithoutACallerGetsTheMetadataOnlySession() throws SQLException {
        IdentityResolver r = new IdentityResolver(pg(Setting.UNAUTHENTICATED_ACCESS, "METADATA_ONLY"),
                List.of(source("nobody")));
        DbIdentity identity = r.resolve();
        assertThat(identity.metadataOnly()).isTrue();
        assertThat(identity.isProxyAccount()).isTrue();
        // a caller still gets its own identity, with nothing restricted
        assertThat(new IdentityResolver(pg(Setting.UNAUTHENTICATED_ACCESS, "METADATA_ONLY"),
                List.of(source("s", "alice"))).resolve().metadataOnly()).isFalse();
    }

    private record GroupPrincipal(String getName) implements Principal {
    }
}
