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
        DbIdentity roleAndCaller = new DbIdentity("alice", "b", null, List.of("a"));
        DbIdentity roleNamedLikeACaller = new DbIdentity("alice", null, null, List.of("a;caller:1:b"));
        DbIdentity callerNamedLikeARole = new DbIdentity("alice", "x;role:1:y", null, List.of());

        List<String> values = List.of(aliceWithRole, oddlyNamed, oddlyNamedToo, twoRoles, oneRoleWithComma,
                oneRoleWithSeparator, roleAndCaller, roleNamedLikeACaller, callerNamedLikeARole,
                new DbIdentity("alice", "x", null, List.of("y")), DbIdentity.PROXY_ACCOUNT,
                DbIdentity.of("proxy-account", null))
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
        assertThat(labels.cost(alice, IdentityLabels.labelsFor(DbIdentity.of("alice", "alice")))).isZero();
        // another caller with the same database user: its session holds what that caller's SQL left, so it switches
        assertThat(labels.cost(alice, IdentityLabels.labelsFor(DbIdentity.of("alice", "alice2")))).isPositive();
        assertThat(DbIdentity.of("alice", "alice2").sameSession(DbIdentity.of("alice", "alice"))).isFalse();
        assertThat(labels.cost(alice, bob)).isPositive();
        assertThat(labels.cost(alice, null)).isPositive().isLessThan(labels.cost(alice, bob));
    }

    @Test
    void aSwitchTakesTheSessionWhoseIdentityWasWantedLongestAgo() {
        IdentityLabels labels = new IdentityLabels();
        DbIdentity alice = DbIdentity.of("alice", "alice");
        DbIdentity bob = DbIdentity.of("bob", "bob");
        DbIdentity carol = DbIdentity.of("carol", "carol");
        var aliceSession = labels.borrowing(IdentityLabels.valueFor(alice), alice);
        var bobSession = labels.borrowing(IdentityLabels.valueFor(bob), bob);
        var carolSession = labels.borrowing(IdentityLabels.valueFor(carol), carol);
        var dave = IdentityLabels.labelsFor(DbIdentity.of("dave", "dave"));
        var neverWanted = IdentityLabels.labelsFor(DbIdentity.of("erin", "erin"));

        assertThat(labels.cost(dave, aliceSession)).isLessThan(labels.cost(dave, bobSession));
        assertThat(labels.cost(dave, bobSession)).isLessThan(labels.cost(dave, carolSession));
        assertThat(labels.cost(dave, neverWanted)).isLessThan(labels.cost(dave, aliceSession));
        assertThat(labels.cost(dave, null)).isLessThan(labels.cost(dave, neverWanted));

        labels.borrowing(IdentityLabels.valueFor(alice), alice); // alice asks again: now bob's is the one to take
        assertThat(labels.cost(dave, bobSession)).isLessThan(labels.cost(dave, carolSession));
        assertThat(labels.cost(dave, carolSession)).isLessThan(labels.cost(dave, aliceSession));
        assertThat(labels.cost(IdentityLabels.labelsFor(alice), aliceSession)).isZero();
    }

    @Test
    void recencyRanksGrowWithAgeAndStaySmall() {
        int previous = -1;
        for (long age = 0; age <= 1L << 20; age++) {
            int rank = IdentityLabels.recencyRank(age);
            if (rank < previous || age < 32 && rank == previous) {
                throw new AssertionError("rank " + rank + " of age " + age + " after " + previous);
            }
            previous = rank;
        }
        assertThat(previous).as("the oldest rank").isLessThan(127 - 11);
    }

    @Test
    void costsAreSmallIntegersThatNeverSayThatNoSessionFits() {
        // Integer.MAX_VALUE tells UCP that no free session fits, and it would open or wait for another; UCP boxes
        // every cost, and only -128..127 come from the JDK's cache without allocating
        IdentityLabels labels = new IdentityLabels();
        DbIdentity alice = DbIdentity.of("alice", "alice");
        var aliceSession = labels.borrowing(IdentityLabels.valueFor(alice), alice);
        var bob = IdentityLabels.labelsFor(DbIdentity.of("bob", "bob"));
        for (int i = 0; i < 100_000; i++) {
            assertSmallPositive(labels.cost(bob, aliceSession));
            DbIdentity other = DbIdentity.of("caller" + (i % 20_000), null);
            labels.borrowing(IdentityLabels.valueFor(other), other); // past the remembered bound: starts afresh
        }
        assertSmallPositive(labels.cost(bob, aliceSession));
        assertSmallPositive(labels.cost(bob, IdentityLabels.labelsFor(DbIdentity.of("caller19999", null))));
    }

    private static void assertSmallPositive(int cost) {
        if (cost <= 0 || Integer.valueOf(cost) != Integer.valueOf(cost)) {
            throw new AssertionError("cost " + cost + " is not a positive cached Integer");
        }
    }
}
