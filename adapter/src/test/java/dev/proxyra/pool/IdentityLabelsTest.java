package dev.proxyra.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.proxyra.identity.DbIdentity;

/** A label value stands for exactly one identity: two identities sharing one would share warm sessions. */
class IdentityLabelsTest {

    @Test
    void namesThatLookLikeRoleListsDoNotCollide() {
        DbIdentity aliceWithRole = new DbIdentity("alice", "alice", null, List.of("x"));
        DbIdentity oddlyNamed = DbIdentity.of("alice roles=x", "alice roles=x");
        DbIdentity oddlyNamedToo = DbIdentity.of("alice;role:1:x", null);
        DbIdentity twoRoles = new DbIdentity("alice", null, null, List.of("a", "b"));
        DbIdentity oneRoleWithComma = new DbIdentity("alice", null, null, List.of("a,b"));
        DbIdentity oneRoleWithSeparator = new DbIdentity("alice", null, null, List.of("a;role:1:b"));

        List<String> values = List.of(aliceWithRole, oddlyNamed, oddlyNamedToo, twoRoles, oneRoleWithComma,
                oneRoleWithSeparator, DbIdentity.PROXY_ACCOUNT, DbIdentity.of("proxy-account", null))
                .stream().map(IdentityLabels::valueFor).toList();
        assertThat(values).doesNotHaveDuplicates();
    }

    @Test
    void theDatabaseUserIsReadBackFromAValue() {
        for (String user : List.of("alice", "alice roles=x", "a:b;role:3:c", "ünïcödé", "7:seven")) {
            DbIdentity identity = new DbIdentity(user, "caller", null, List.of("r1", "r2"));
            assertThat(IdentityLabels.identityIn(IdentityLabels.valueFor(identity)).databaseUser()).isEqualTo(user);
        }
        assertThat(IdentityLabels.identityIn(IdentityLabels.valueFor(DbIdentity.PROXY_ACCOUNT)).isProxyAccount()).isTrue();
        assertThat(IdentityLabels.identityIn(null)).isNull();
        for (String foreign : new String[] {"", "alice", "user:", "user:x:alice", "user:9:alice", "role:5:alice"}) {
            assertThat(IdentityLabels.identityIn(foreign)).as(foreign).isNull();
        }
    }

    @Test
    void onlyTheSameIdentityCostsNothing() {
        IdentityLabels labels = new IdentityLabels();
        var alice = IdentityLabels.labelsFor(DbIdentity.of("alice", "alice"));
        var bob = IdentityLabels.labelsFor(DbIdentity.of("bob", "bob"));
        assertThat(labels.cost(alice, IdentityLabels.labelsFor(DbIdentity.of("alice", "someone else")))).isZero();
        assertThat(labels.cost(alice, bob)).isPositive();
        assertThat(labels.cost(alice, null)).isPositive().isLessThan(labels.cost(alice, bob));
    }
}
