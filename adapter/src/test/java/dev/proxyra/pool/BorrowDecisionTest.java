package dev.proxyra.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.proxyra.dialect.Dialect;
import dev.proxyra.dialect.Dialect.ErrorKind;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.monitoring.PoolMetrics.Discard;

/**
 * The borrow's decisions as a table, without a database: what happens to a session and to the borrow for each
 * outcome of its check or switch, the retry budget, and the lease's phases and taints.
 */
class BorrowDecisionTest {

    @ParameterizedTest(name = "{0}, labelled={1}, budget left={2}, refusal ends session={3} -> {4}")
    @CsvSource({
            // the database refused the identity: never another session (that would only repeat the refusal)
            "IDENTITY_REFUSED, true,  true,  false, REFUSED_GIVE_BACK,     ,                 false",
            "IDENTITY_REFUSED, false, true,  false, REFUSED_GIVE_BACK,     ,                 false",
            "IDENTITY_REFUSED, true,  false, false, REFUSED_GIVE_BACK,     ,                 false",
            "IDENTITY_REFUSED, true,  true,  true,  REFUSED_SESSION_ENDED, STATE_NOT_RESET,  false",
            "IDENTITY_REFUSED, false, false, true,  REFUSED_SESSION_ENDED, STATE_NOT_RESET,  false",
            // a dead connection: another one while the budget lasts, labelled or fresh
            "FATAL,            true,  true,  false, DEAD_TRY_ANOTHER,      FATAL_ERROR,      true",
            "FATAL,            false, true,  false, DEAD_TRY_ANOTHER,      FATAL_ERROR,      true",
            "FATAL,            true,  false, false, DEAD_GIVE_UP,          FATAL_ERROR,      false",
            "FATAL,            false, false, true,  DEAD_GIVE_UP,          FATAL_ERROR,      false",
            // an ordinary error: a pooled session's is the session's (what a caller left fired), a fresh one's is the caller's
            "OTHER,            true,  true,  false, FAILED_TRY_ANOTHER,    STATE_NOT_RESET,  true",
            "OTHER,            false, true,  false, FAILED_GIVE_UP,        STATE_NOT_RESET,  false",
            "OTHER,            true,  false, false, FAILED_GIVE_UP,        STATE_NOT_RESET,  false",
            "OTHER,            false, false, true,  FAILED_GIVE_UP,        STATE_NOT_RESET,  false",
    })
    void aFailedCheckOrSwitch(ErrorKind kind, boolean labelled, boolean budgetLeft, boolean refusalEndsSession,
            BorrowVerdict expected, Discard discard, boolean tryAnother) {
        BorrowVerdict verdict = BorrowVerdict.ofFailure(kind, labelled, budgetLeft, refusalEndsSession);
        assertThat(verdict).isEqualTo(expected);
        assertThat(verdict.discard()).isEqualTo(discard);
        assertThat(verdict.tryAnother()).isEqualTo(tryAnother);
    }

    @Test
    void everyFailureIsDecidedAndNoFailureLendsTheSession() {
        for (ErrorKind kind : ErrorKind.values()) {
            for (boolean labelled : new boolean[] {true, false}) {
                for (boolean budget : new boolean[] {true, false}) {
                    for (boolean ends : new boolean[] {true, false}) {
                        BorrowVerdict v = BorrowVerdict.ofFailure(kind, labelled, budget, ends);
                        assertThat(v).isNotEqualTo(BorrowVerdict.LEND);
                        // a session is given back only when the database refused and left it as it was
                        assertThat(v.discard() == null).isEqualTo(v == BorrowVerdict.REFUSED_GIVE_BACK);
                        // another session is tried only while the budget lasts
                        assertThat(!v.tryAnother() || budget).isTrue();
                    }
                }
            }
        }
    }

    @Test
    void aCheckThatFoundAnEscapeDiscardsAndNeverLends() {
        assertThat(BorrowVerdict.ofCheck(true, false)).isEqualTo(BorrowVerdict.LEND);
        assertThat(BorrowVerdict.ofCheck(false, true)).isEqualTo(BorrowVerdict.ESCAPED_TRY_ANOTHER);
        assertThat(BorrowVerdict.ofCheck(false, false)).isEqualTo(BorrowVerdict.ESCAPED_GIVE_UP);
        assertThat(BorrowVerdict.ESCAPED_TRY_ANOTHER.discard()).isEqualTo(Discard.IDENTITY_CHANGED);
        assertThat(BorrowVerdict.ESCAPED_GIVE_UP.discard()).isEqualTo(Discard.IDENTITY_CHANGED);
        assertThat(BorrowVerdict.LEND.discard()).isNull();
    }

    @Test
    void theSwitchFunnelClassifiesOnceFatalFirst() {
        Dialect postgres = Dialect.of(dev.proxyra.config.DialectKind.POSTGRESQL);
        assertThat(postgres.classifySwitchFailure(new java.sql.SQLException("permission denied to set role", "42501")))
                .isEqualTo(ErrorKind.IDENTITY_REFUSED);
        java.sql.SQLException refusedOnADeadConnection = new java.sql.SQLException("permission denied", "42501");
        refusedOnADeadConnection.setNextException(new java.sql.SQLException("I/O error", "08006"));
        assertThat(postgres.classifySwitchFailure(refusedOnADeadConnection)).isEqualTo(ErrorKind.FATAL);
        assertThat(postgres.classifySwitchFailure(new java.sql.SQLException("canceling statement", "57014")))
                .isEqualTo(ErrorKind.OTHER);
        // statements outside a switch are never "refused": the managed connection only asks fatal or not
        assertThat(postgres.classify(new java.sql.SQLException("permission denied to set role", "42501")))
                .isEqualTo(ErrorKind.OTHER);
    }

    @Test
    void theBudgetAllowsMaxPoolSizePlusOneTries() {
        AtomicLong clock = new AtomicLong();
        RetryBudget budget = new RetryBudget(3, 10, clock::get);
        int tries = 0;
        do {
            budget.tried();
            tries++;
        } while (budget.left());
        assertThat(tries).isEqualTo(4);
    }

    @Test
    void timeLostOnFailingSessionsIsNotChargedToTheWait() {
        AtomicLong clock = new AtomicLong();
        RetryBudget budget = new RetryBudget(100, 1, clock::get);
        budget.tried();
        long roundTrip = clock.get();
        clock.addAndGet(900_000_000L); // a dead session's round trip took 0.9 s
        budget.refund(roundTrip);
        clock.addAndGet(900_000_000L); // 0.9 s waiting in the pool: within the 1 s wait
        assertThat(budget.left()).isTrue();
        clock.addAndGet(200_000_000L); // 1.1 s of waiting in all
        assertThat(budget.left()).isFalse();
    }

    @Test
    void aLeaseEndsExactlyOnce() {
        Lease taken = new Lease(null, Dialect.of(dev.proxyra.config.DialectKind.POSTGRESQL));
        assertThat(taken.phase()).isEqualTo(Lease.Phase.TAKEN);
        taken.end();
        assertThat(taken.phase()).isEqualTo(Lease.Phase.ENDED);
        assertThatThrownBy(taken::end).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> taken.lend(DbIdentity.of("alice", "alice"))).isInstanceOf(IllegalStateException.class);

        Lease lent = new Lease(null, Dialect.of(dev.proxyra.config.DialectKind.POSTGRESQL));
        lent.lend(DbIdentity.of("alice", "alice"));
        assertThat(lent.phase()).isEqualTo(Lease.Phase.LENT);
        assertThatThrownBy(() -> lent.lend(DbIdentity.of("bob", "bob"))).isInstanceOf(IllegalStateException.class);
        assertThat(lent.identity().databaseUser()).isEqualTo("alice");
        lent.end();
        assertThatThrownBy(lent::end).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void concurrentEndsLetExactlyOneThrough() throws Exception {
        for (int round = 0; round < 200; round++) {
            Lease lease = new Lease(null, Dialect.of(dev.proxyra.config.DialectKind.POSTGRESQL));
            lease.lend(DbIdentity.of("alice", "alice"));
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
            java.util.concurrent.atomic.AtomicInteger ended = new java.util.concurrent.atomic.AtomicInteger();
            Runnable end = () -> {
                try {
                    start.await();
                    lease.end();
                    ended.incrementAndGet();
                } catch (IllegalStateException second) {
                    // the other thread ended it
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            Thread a = new Thread(end);
            Thread b = new Thread(end);
            a.start();
            b.start();
            a.join();
            b.join();
            assertThat(ended.get()).isEqualTo(1);
        }
    }

    @Test
    void theWorstTaintDecidesAndTaintsOnlyAddUp() {
        Lease lease = new Lease(null, Dialect.of(dev.proxyra.config.DialectKind.POSTGRESQL));
        assertThat(lease.worstTaint()).isNull();
        lease.taint(Lease.Taint.IDENTITY_SUSPECT);
        assertThat(lease.worstTaint()).isEqualTo(Lease.Taint.IDENTITY_SUSPECT);
        lease.taint(Lease.Taint.CALLS_STILL_RUNNING);
        assertThat(lease.worstTaint()).isEqualTo(Lease.Taint.CALLS_STILL_RUNNING);
        assertThat(lease.worstTaint().discard()).isEqualTo(Discard.STATE_NOT_RESET);
        lease.taint(Lease.Taint.BROKEN);
        assertThat(lease.worstTaint()).isEqualTo(Lease.Taint.BROKEN);
        assertThat(lease.worstTaint().discard()).isEqualTo(Discard.FATAL_ERROR);
        lease.taint(Lease.Taint.IDENTITY_SUSPECT);
        assertThat(lease.worstTaint()).isEqualTo(Lease.Taint.BROKEN);
        assertThat(lease.has(Lease.Taint.CALLS_STILL_RUNNING)).isTrue();
    }

    @Test
    void sqlThatCanChangeTheRoleTaintsTheLeaseAndOtherSqlDoesNot() {
        Lease lease = new Lease(null, Dialect.of(dev.proxyra.config.DialectKind.POSTGRESQL));
        lease.sqlSeen("select * from orders where id = 1");
        assertThat(lease.worstTaint()).isNull();
        lease.sqlSeen("/* hi */ SET\tROLE bob");
        assertThat(lease.worstTaint()).isEqualTo(Lease.Taint.IDENTITY_SUSPECT);
        assertThat(lease.worstTaint().discard()).isEqualTo(Discard.IDENTITY_CHANGED);
    }
}
