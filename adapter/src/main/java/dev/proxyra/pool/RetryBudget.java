package dev.proxyra.pool;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How many sessions one borrow may still try, and until when: at most MaxPoolSize + 1 sessions, so that every session
 * pooled when the borrow began can be tried and a database that fails every new session is not stormed with logins;
 * and for ConnectionWaitTimeout, not counting the time spent on sessions found dead or failing, which is not the
 * caller's wait for a free session. One per borrow, used by one thread.
 */
final class RetryBudget {
    private final int maxTries;
    private final LongSupplier clock;
    private long deadline;
    private int tries;
    private int dead;
    private int escaped;

    RetryBudget(int maxPoolSize, int waitSeconds, LongSupplier clock) {
        this.maxTries = maxPoolSize + 1;
        this.clock = clock;
        this.deadline = clock.getAsLong() + TimeUnit.SECONDS.toNanos(waitSeconds);
    }

    /** A session was taken for a try. */
    void tried() {
        tries++;
    }

    /** The round trip that began at {@code since} failed: its time is not charged to the wait. */
    void refund(long since) {
        deadline += clock.getAsLong() - since;
    }

    /** Whether another session may be tried after this one. */
    boolean left() {
        return tries < maxTries && clock.getAsLong() < deadline;
    }

    /** Counts a discarded session for the message of a borrow that gives up. */
    void counted(BorrowVerdict verdict) {
        switch (verdict) {
            case ESCAPED_TRY_ANOTHER, ESCAPED_GIVE_UP -> escaped++;
            case DEAD_TRY_ANOTHER, FAILED_TRY_ANOTHER -> dead++;
            default -> {
            }
        }
    }

    int tries() {
        return tries;
    }

    int dead() {
        return dead;
    }

    int escaped() {
        return escaped;
    }
}
