package dev.proxyra.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.postgresql.PGConnection;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.monitoring.PoolMetrics.Discard;
import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.monitoring.Refusal;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.fakepg.FakePgServer.Backend;
import dev.proxyra.testing.fakepg.FakePgServer.Fault;
import dev.proxyra.testing.fakepg.FakePgServer;

/**
 * The lifecycle decisions of {@link IdentityPool}, through the real UCP over the in-memory PostgreSQL
 * ({@link FakePgServer}), as a decision table: the label of the session UCP hands out (none: a new session; the
 * caller's own: warm; another identity's; one proxyra did not write) × what the check or switch answers (ok, an
 * escape, a refusal, a fatal error, another error) × what the pool does (lends it, tries another session, refuses
 * the caller with which SQLState, discards it for which reason, returns it to the pool labelled as what). Each test
 * asserts exactly which counters moved, that nothing stays lent out, and what the next borrow finds (which is how a
 * session's label shows). Only {@link #borrow} and {@link #release} call the pool's lending API.
 */
class LifecycleDecisionTest {
    private static final int MAX_POOL_SIZE = 2;

    private FakePgServer server;
    private ProxyraManagedConnectionFactory mcf;
    private IdentityPool pool;

    @BeforeEach
    void open() throws SQLException {
        server = FakePgServer.start();
        mcf = Factories.onFakePg(server).maxPoolSize(MAX_POOL_SIZE).waitTimeout(5).identityCheck("VERIFY").build();
        pool = mcf.pool();
    }

    @AfterEach
    void close() {
        try {
            assertThat(pool.lentOut()).as("lent out after the test").isZero();
        } finally {
            mcf.close();
            server.close();
        }
    }

    // ---- the only calls of the pool's lending API ----

    private Lease borrow(String user) throws SQLException {
        return pool.borrow(DbIdentity.of(user, user));
    }

    private void release(Lease session) {
        pool.release(session);
    }

    /** The fake backend behind a lent session, found through the driver's own API (no SQL). */
    private Backend backendOf(Lease session) throws SQLException {
        return server.backend(session.connection().unwrap(PGConnection.class).getBackendPID());
    }

    // ---- what the pool counted ----

    /** Every borrow outcome, discard reason and refusal reason with its count, as one map that diffs well. */
    private Map<String, Long> counts() {
        Map<String, Long> c = new TreeMap<>();
        for (Outcome o : Outcome.values()) {
            c.put("borrow " + o, pool.metrics().borrows(o));
        }
        for (Discard d : Discard.values()) {
            c.put("discard " + d, pool.metrics().discards(d));
        }
        for (Refusal r : Refusal.values()) {
            c.put("refusal " + r, pool.metrics().refusals(r));
        }
        c.put("escapes found", pool.escapesFound());
        return c;
    }

    /** The counters that moved since {@code before}, by how much. */
    private Map<String, Long> movedSince(Map<String, Long> before) {
        Map<String, Long> moved = new TreeMap<>();
        counts().forEach((k, v) -> {
            if (v - before.get(k) != 0) {
                moved.put(k, v - before.get(k));
            }
        });
        return moved;
    }

    /**
     * That {@code discarded} is out of the pool: holding MaxPoolSize sessions at once takes every session the pool
     * has, and none is it. (UCP closes a discarded physical connection when it gets to it, so whether the fake's
     * backend is closed yet is not asserted.)
     */
    private void assertNeverLentAgain(Backend discarded) throws SQLException {
        java.util.List<Lease> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < MAX_POOL_SIZE; i++) {
                held.add(borrow("probe" + i));
                assertThat(backendOf(held.get(i))).isNotSameAs(discarded);
            }
        } finally {
            held.forEach(this::release);
        }
    }

    /** A warm session of {@code user} back in the pool, its backend. */
    private Backend pooledSessionOf(String user) throws SQLException {
        Lease s = borrow(user);
        Backend b = backendOf(s);
        release(s);
        assertThat(pool.lentOut()).isZero();
        return b;
    }

    // ---- no label: a new session ----

    @Test
    void newSessionOkIsLentAndComesBackLabelledWithItsIdentity() throws Exception {
        Map<String, Long> before = counts();
        Lease s = borrow("alice");
        Backend b = backendOf(s);
        assertThat(b.currentUser()).isEqualTo("alice");
        assertThat(pool.lentOut()).isOne();
        release(s);
        assertThat(pool.lentOut()).isZero();
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L));

        Lease again = borrow("alice");
        assertThat(backendOf(again)).as("labelled alice: the next alice borrow finds it warm").isSameAs(b);
        release(again);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("borrow WARM", 1L));
    }

    @Test
    void newSessionRefusedIsReturnedUnlabelledAndTheCallerGetsClass28() throws Exception {
        pooledSessionOf("alice"); // the proxy-account check is behind us; one idle session labelled alice
        Lease held = borrow("alice"); // keeps it busy, so mallory's borrow gets a new session
        server.refuseRole("mallory");
        Map<String, Long> before = counts();

        assertThatThrownBy(() -> borrow("mallory")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        assertThat(pool.lentOut()).as("only the held one").isOne();
        assertThat(movedSince(before)).containsOnly(entry("refusal NOT_AUTHORIZED", 1L));
        Backend refused = server.backends().get(1);
        assertThat(refused.isClosed()).as("returned, not discarded").isFalse();
        assertThat(refused.currentUser()).as("the refused pipeline was undone").isEqualTo(server.proxyRole());

        release(held);
        // the returned session carries no label: it serves bob as a new session, with no switch from anyone
        Lease bob = borrow("bob");
        Lease bob2 = borrow("bob");
        assertThat(server.logins()).as("no new login").isEqualTo(2);
        assertThat(movedSince(before)).containsEntry("borrow NEW_PHYSICAL", 1L).containsEntry("borrow SWITCHED", 1L);
        release(bob);
        release(bob2);
    }

    @Test
    void newSessionFatalIsDiscardedAndAnotherOneLent() throws Exception {
        pooledSessionOf("alice");
        Lease held = borrow("alice");
        Map<String, Long> before = counts();
        server.failNext("select d.name, d.fix", Fault.CONNECTION_LOST); // a new session's first pipeline

        Lease s = borrow("bob");
        assertThat(backendOf(s).currentUser()).isEqualTo("bob");
        assertThat(backendOf(s)).isSameAs(server.backends().get(2));
        release(s);
        release(held);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard FATAL_ERROR", 1L));
        assertNeverLentAgain(server.backends().get(1));
    }

    @Test
    void newSessionOtherErrorIsDiscardedAndTheCallerGetsACountedRefusalNamingIt() throws Exception {
        pooledSessionOf("alice");
        Lease held = borrow("alice");
        Map<String, Long> before = counts();
        server.failNext("select d.name, d.fix", Fault.STATEMENT_TIMEOUT);

        // a new session is not retried for a non-fatal error: proxyra's refusal, counted, naming the driver's error
        // and keeping its SQLState, the driver's exception chained
        assertThatThrownBy(() -> borrow("bob")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(Refusal.of(e)).isEqualTo(Refusal.DATABASE_UNREACHABLE);
            assertThat(e.getMessage()).startsWith("proxyra: pool ").contains("could not switch a session to",
                    "'bob'", "canceling statement due to statement timeout", "the session was discarded");
            assertThat(e.getCause()).isInstanceOf(SQLException.class).isSameAs(e.getNextException());
            assertThat(e.getCause().getMessage()).doesNotStartWith("proxyra");
        });
        assertThat(pool.lentOut()).isOne();
        release(held);
        assertThat(movedSince(before)).containsOnly(entry("discard STATE_NOT_RESET", 1L),
                entry("refusal DATABASE_UNREACHABLE", 1L));
        assertNeverLentAgain(server.backends().get(1));
    }

    @Test
    void newSessionWithRoleDefaultsFromItsLoginIsNeverLent() throws Exception {
        Lease held = borrow("alice"); // the pool started and passed its proxy-account check
        // what a caller's SQL can do as the proxy role: ALTER ROLE app_proxy SET role = bob
        server.alterProxyRoleSet("role", "bob");
        Map<String, Long> before = counts();

        assertThatThrownBy(() -> borrow("carol")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("ALTER ROLE app_proxy RESET role");
        });
        Backend refused = server.backends().get(1);
        assertThat(movedSince(before)).containsOnly(entry("refusal CONFIGURATION", 1L),
                entry("discard STATE_NOT_RESET", 1L));
        release(held);
        assertThat(pool.lentOut()).isZero();

        server.alterProxyRoleReset("role");
        Lease ok = borrow("carol");
        assertThat(backendOf(ok).currentUser()).isEqualTo("carol");
        release(ok);
        assertNeverLentAgain(refused);
    }

    @Test
    void aSettingDefaultOnTheProxyRoleRefusesNewSessionsToo() throws Exception {
        Lease held = borrow("alice");
        server.alterProxyRoleSet("search_path", "evil");
        assertThatThrownBy(() -> borrow("carol")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getMessage()).contains("search_path"));
        release(held);
    }

    @Test
    void aProxyAccountWithRoleDefaultsLendsNothingUntilTheyAreGone() throws Exception {
        server.alterProxyRoleSet("role", "bob"); // before the pool's first borrow: the start check finds it
        Map<String, Long> before = counts();
        assertThatThrownBy(() -> borrow("alice")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("lends no session", "has the default role");
        });
        assertThat(server.saw("SET ROLE \"alice\"")).as("nobody was switched to").isFalse();
        assertThat(movedSince(before)).containsOnly(entry("refusal CONFIGURATION", 1L),
                entry("discard STATE_NOT_RESET", 1L));

        server.alterProxyRoleReset("role");
        Lease s = borrow("alice"); // the check runs again, and passes
        assertThat(server.log().stream().filter(l -> l.contains("with proxy as")).count()).isEqualTo(2);
        release(s);
    }

    @Test
    void aFatalErrorDuringTheStartCheckIsRetriedOnAnotherSession() throws Exception {
        server.failNext("select session_user", Fault.CONNECTION_LOST);
        Map<String, Long> before = counts();
        Lease s = borrow("alice");
        assertThat(backendOf(s).currentUser()).isEqualTo("alice");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard FATAL_ERROR", 1L));
    }

    // ---- the caller's own label: warm ----

    @Test
    void warmOkIsLentWithoutASwitch() throws Exception {
        Backend b = pooledSessionOf("alice");
        Map<String, Long> before = counts();
        int statements = b.statements().size();
        Lease s = borrow("alice");
        assertThat(backendOf(s)).isSameAs(b);
        assertThat(b.statements().subList(statements, b.statements().size()))
                .as("IdentityCheck=VERIFY: only the check, no SET ROLE").containsExactly("select current_user, session_user");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow WARM", 1L));
    }

    @Test
    void warmEscapedIsNeverLentAndAnotherSessionServes() throws Exception {
        Backend escaped = pooledSessionOf("alice");
        escaped.escapeTo("bob"); // as a function's EXECUTE 'SET ROLE bob' would, unseen by any text scan
        Map<String, Long> before = counts();

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotSameAs(escaped);
        assertThat(backendOf(s).currentUser()).isEqualTo("alice");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard IDENTITY_CHANGED", 1L),
                entry("escapes found", 1L));
        assertNeverLentAgain(escaped);
    }

    @Test
    void warmFatalIsDiscardedAndAnotherSessionServes() throws Exception {
        Backend dead = pooledSessionOf("alice");
        server.failNext("select current_user, session_user", Fault.CONNECTION_LOST);
        Map<String, Long> before = counts();

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotSameAs(dead);
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard FATAL_ERROR", 1L));
        assertNeverLentAgain(dead);
    }

    @Test
    void warmCheckFailingWithAnotherErrorIsDiscardedAndAnotherSessionServes() throws Exception {
        Backend b = pooledSessionOf("alice");
        server.failNext("select current_user, session_user", Fault.STATEMENT_TIMEOUT);
        Map<String, Long> before = counts();

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotSameAs(b);
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L),
                entry("discard STATE_NOT_RESET", 1L));
        assertNeverLentAgain(b);
    }

    @Test
    void warmTerminatedBackendIsDiscardedWhenValidationIsLocal() throws Exception {
        server.validateLocally(); // as with PostgresDataSource: UCP's isValid does not reach the backend
        Backend killed = pooledSessionOf("alice");
        killed.kill();
        Map<String, Long> before = counts();

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotSameAs(killed);
        assertThat(backendOf(s).currentUser()).isEqualTo("alice");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard FATAL_ERROR", 1L));
        assertNeverLentAgain(killed);
    }

    /** UCP asks every non-Oracle connection isValid when it lends it, whatever ValidateConnectionOnBorrow says. */
    @Test
    void warmDeadSessionThatUcpValidatesIsReplacedBeforeProxyraSeesIt() throws Exception {
        mcf.setValidateConnectionOnBorrow("false");
        pool = mcf.pool();
        Backend killed = pooledSessionOf("alice");
        killed.kill(); // isValid answers false
        int statements = killed.statements().size();
        Map<String, Long> before = counts();

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotSameAs(killed);
        assertThat(backendOf(s).currentUser()).isEqualTo("alice");
        assertThat(killed.validations()).as("UCP asked the driver").isPositive();
        assertThat(killed.statements()).as("no statement was sent to the dead backend").hasSize(statements);
        release(s);
        // UCP threw it away itself: not one of proxyra's discards
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L));
        assertNeverLentAgain(killed);
    }

    /**
     * IdentityCheck=SCAN reads the application's SQL, not the database: an escape no SQL text shows (a function's
     * EXECUTE 'SET ROLE ...') reaches the next borrower of the same identity. The documented limit of SCAN (see
     * PostgresRole.ROLE_CHANGE and docs/configuration.md); VERIFY exists for it.
     */
    @Test
    void scanModeCannotSeeAnEscapeNoSqlShowed() throws Exception {
        mcf.setIdentityCheck("SCAN");
        pool = mcf.pool();
        Backend escaped = pooledSessionOf("alice");
        escaped.escapeTo("bob");
        Lease s = borrow("alice");
        assertThat(backendOf(s)).isSameAs(escaped);
        assertThat(backendOf(s).currentUser()).isEqualTo("bob");
        release(s);
        // a switch to another identity still resets the role, whatever the session ran as
        Lease carol = borrow("carol");
        assertThat(backendOf(carol).currentUser()).isEqualTo("carol");
        release(carol);
    }

    // ---- another identity's label: a switch ----

    @Test
    void switchOkChecksSwitchesAndResetsInOneRoundTrip() throws Exception {
        Backend b = pooledSessionOf("alice");
        Map<String, Long> before = counts();
        int statements = b.statements().size();
        Lease s = borrow("bob");
        assertThat(backendOf(s)).isSameAs(b);
        assertThat(b.currentUser()).isEqualTo("bob");
        assertThat(b.statements().subList(statements, b.statements().size()))
                .startsWith("select current_user, session_user", "SET ROLE \"bob\"", "RESET ALL");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow SWITCHED", 1L));
        Lease again = borrow("bob");
        assertThat(backendOf(again)).as("now labelled bob").isSameAs(b);
        release(again);
        assertThat(movedSince(before)).containsOnly(entry("borrow SWITCHED", 1L), entry("borrow WARM", 1L));
    }

    @Test
    void switchFindingAnEscapeIsNeverLentAndAnotherSessionServes() throws Exception {
        Backend escaped = pooledSessionOf("alice");
        escaped.escapeTo("carol");
        Map<String, Long> before = counts();

        Lease s = borrow("bob");
        assertThat(backendOf(s)).isNotSameAs(escaped);
        assertThat(backendOf(s).currentUser()).isEqualTo("bob");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard IDENTITY_CHANGED", 1L),
                entry("escapes found", 1L));
        assertNeverLentAgain(escaped);
    }

    @Test
    void switchRefusedLeavesTheSessionAsItWasLabelledAsBefore() throws Exception {
        Backend b = pooledSessionOf("alice");
        server.refuseRole("mallory");
        Map<String, Long> before = counts();

        assertThatThrownBy(() -> borrow("mallory")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("permission denied to set role", "42501");
        });
        assertThat(pool.lentOut()).isZero();
        assertThat(b.isClosed()).isFalse();
        assertThat(b.currentUser()).as("the pipeline was undone").isEqualTo("alice");
        assertThat(movedSince(before)).containsOnly(entry("refusal NOT_AUTHORIZED", 1L));

        Lease s = borrow("alice");
        assertThat(backendOf(s)).as("still labelled alice").isSameAs(b);
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("refusal NOT_AUTHORIZED", 1L), entry("borrow WARM", 1L));
    }

    @Test
    void switchRefusedOnceIsNotRememberedAsARefusal() throws Exception {
        pooledSessionOf("alice");
        server.refuseNextSetRole();
        assertThatThrownBy(() -> borrow("bob")).isInstanceOf(SQLException.class);
        Lease s = borrow("bob"); // PostgreSQL's refusal does not end the session: the next try is asked anew
        assertThat(backendOf(s).currentUser()).isEqualTo("bob");
        release(s);
    }

    @Test
    void switchRefusedOnAnEscapedSessionDiscardsItInsteadOfRelabellingIt() throws Exception {
        Backend escaped = pooledSessionOf("alice");
        escaped.escapeTo("carol");
        server.refuseRole("mallory");
        Map<String, Long> before = counts();

        // the refused pipeline takes the check's answer with it: the session must be asked again
        assertThatThrownBy(() -> borrow("mallory")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        assertThat(movedSince(before)).containsOnly(entry("refusal NOT_AUTHORIZED", 1L),
                entry("discard IDENTITY_CHANGED", 1L), entry("escapes found", 1L));

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotSameAs(escaped);
        assertThat(backendOf(s).currentUser()).isEqualTo("alice");
        release(s);
        assertNeverLentAgain(escaped);
    }

    @Test
    void switchToAMissingRoleIsARefusalToo() throws Exception {
        Backend b = pooledSessionOf("alice");
        server.missingRole("nobody");
        Map<String, Long> before = counts();
        assertThatThrownBy(() -> borrow("nobody")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28000"));
        assertThat(b.isClosed()).isFalse();
        assertThat(movedSince(before)).containsOnly(entry("refusal NOT_AUTHORIZED", 1L));
    }

    @Test
    void switchFatalIsDiscardedAndAnotherSessionServes() throws Exception {
        Backend b = pooledSessionOf("alice");
        server.failNext("select current_user, session_user", Fault.TERMINATED);
        Map<String, Long> before = counts();

        Lease s = borrow("bob");
        assertThat(backendOf(s)).isNotSameAs(b);
        assertThat(backendOf(s).currentUser()).isEqualTo("bob");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard FATAL_ERROR", 1L));
    }

    @Test
    void resetFailingIsDiscardedAndAnotherSessionServes() throws Exception {
        Backend b = pooledSessionOf("alice");
        server.failNext("discard temp", Fault.STATEMENT_TIMEOUT); // inside the switch's reset
        Map<String, Long> before = counts();

        Lease s = borrow("bob");
        assertThat(backendOf(s)).isNotSameAs(b);
        assertThat(b.currentUser()).as("the whole pipeline was undone, SET ROLE included").isEqualTo("alice");
        assertThat(backendOf(s).currentUser()).isEqualTo("bob");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L),
                entry("discard STATE_NOT_RESET", 1L));
        assertNeverLentAgain(b);
    }

    // ---- a label proxyra did not write ----

    @Test
    void aLabelProxyraDidNotWriteIsNeverTrusted() throws Exception {
        Lease s = borrow("alice");
        Backend foreign = backendOf(s);
        // code outside proxyra labelled the UCP connection (the label value proxyra never makes)
        ((oracle.ucp.jdbc.LabelableConnection) s.connection()).applyConnectionLabel("proxyra.identity", "bob");
        release(s);
        Map<String, Long> before = counts();

        Lease next = borrow("bob");
        assertThat(backendOf(next)).isNotSameAs(foreign);
        assertThat(backendOf(next).currentUser()).isEqualTo("bob");
        release(next);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard IDENTITY_CHANGED", 1L),
                entry("escapes found", 1L));
        assertNeverLentAgain(foreign);
    }

    // ---- the retry budget ----

    @Test
    void aBorrowTriesAtMostMaxPoolSizePlusOneSessionsThenFails() throws Exception {
        pooledSessionOf("alice");
        server.failEvery("", Fault.CONNECTION_LOST); // every session breaks at its first statement
        Map<String, Long> before = counts();
        int logins = server.logins();

        assertThatThrownBy(() -> borrow("bob")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).startsWith("08");
            assertThat(Refusal.of(e)).isEqualTo(Refusal.DATABASE_UNREACHABLE);
        });
        assertThat(movedSince(before)).containsOnly(entry("discard FATAL_ERROR", (long) MAX_POOL_SIZE + 1),
                entry("refusal DATABASE_UNREACHABLE", 1L));
        assertThat(server.logins() - logins).as("new sessions tried after the pooled one").isEqualTo(MAX_POOL_SIZE);
        assertThat(server.openBackends()).isZero();

        server.healed();
        Lease s = borrow("bob");
        release(s);
    }

    @Test
    void everyPooledSessionEscapedIsTriedAndDiscardedBeforeANewOneServes() throws Exception {
        Lease a = borrow("alice");
        Lease b = borrow("alice");
        Backend first = backendOf(a);
        Backend second = backendOf(b);
        release(a);
        release(b);
        first.escapeTo("carol");
        second.escapeTo("carol");
        Map<String, Long> before = counts();

        Lease s = borrow("alice");
        assertThat(backendOf(s)).isNotIn(first, second);
        assertThat(backendOf(s).currentUser()).isEqualTo("alice");
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("borrow NEW_PHYSICAL", 1L), entry("discard IDENTITY_CHANGED", 2L),
                entry("escapes found", 2L));
    }

    // ---- returns ----

    @Test
    void aSessionMarkedBrokenIsDiscardedOnReturn() throws Exception {
        Lease s = borrow("alice");
        Backend b = backendOf(s);
        s.taint(Lease.Taint.BROKEN);
        Map<String, Long> before = counts();
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("discard FATAL_ERROR", 1L));
        assertNeverLentAgain(b);
    }

    @Test
    void aSessionThatRanRoleChangingSqlIsDiscardedOnReturn() throws Exception {
        Lease s = borrow("alice");
        Backend b = backendOf(s);
        s.taint(Lease.Taint.IDENTITY_SUSPECT);
        Map<String, Long> before = counts();
        release(s);
        assertThat(movedSince(before)).containsOnly(entry("discard IDENTITY_CHANGED", 1L));
        assertNeverLentAgain(b);
    }

    @Test
    void aRetiredPoolClosesOnceItsLastLendingReturns() throws Exception {
        IdentityPool retiring = pool;
        Lease s = borrow("alice");
        Lease t = borrow("bob");
        mcf.setMaxPoolSize(MAX_POOL_SIZE + 1); // a changed property retires the pool
        assertThat(retiring.isClosed()).as("no new borrows").isTrue();
        assertThatThrownBy(() -> retiring.borrow(DbIdentity.of("carol", "carol")))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08003"));
        release(s);
        assertThat(server.openBackends()).as("bob's session is still lent").isEqualTo(2);
        release(t);
        assertThat(retiring.lentOut()).isZero();
        assertThat(server.openBackends()).as("closed with its last lending").isZero();
        pool = mcf.pool();
    }
}
