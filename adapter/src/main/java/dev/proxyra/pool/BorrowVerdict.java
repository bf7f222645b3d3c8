package dev.proxyra.pool;

import dev.proxyra.dialect.Dialect.ErrorKind;
import dev.proxyra.monitoring.PoolMetrics.Discard;

/**
 * What a borrow does with the session it took, once its check or switch has answered: the whole decision, as a
 * value, made in one place ({@link #of}) from what is known then. Each constant says what happens to the session
 * (lent, given back as it is, or discarded for a reason) and to the borrow (done, another session tried, or the
 * caller refused).
 */
enum BorrowVerdict {
    /** The session runs as the caller: lent. */
    LEND(null, false),
    /** The session no longer ran as its label said (a caller's SQL or code outside proxyra): discarded, another tried. */
    ESCAPED_TRY_ANOTHER(Discard.IDENTITY_CHANGED, true),
    /** As {@link #ESCAPED_TRY_ANOTHER}, with no try or time left: the caller gets an 08001 saying what was found. */
    ESCAPED_GIVE_UP(Discard.IDENTITY_CHANGED, false),
    /** The connection is dead (nothing of the caller ran on it): discarded, another tried. */
    DEAD_TRY_ANOTHER(Discard.FATAL_ERROR, true),
    /** As {@link #DEAD_TRY_ANOTHER}, with no try or time left: the caller gets the failure as DATABASE_UNREACHABLE. */
    DEAD_GIVE_UP(Discard.FATAL_ERROR, false),
    /**
     * A pooled session whose check or reset failed (e.g. a statement_timeout a caller left fired): no good to anyone,
     * discarded, another tried.
     */
    FAILED_TRY_ANOTHER(Discard.STATE_NOT_RESET, true),
    /**
     * A switch failed in an unknown state and no other session may help: discarded; the caller gets proxyra's refusal
     * (DATABASE_UNREACHABLE, counted) naming the driver's error, with its SQLState.
     */
    FAILED_GIVE_UP(Discard.STATE_NOT_RESET, false),
    /**
     * The database refused the identity, and the driver ended the session whose switch was refused (Oracle logs off):
     * discarded; the caller gets a 28000, and the refusal is remembered so it is not tried again at once.
     */
    REFUSED_SESSION_ENDED(Discard.STATE_NOT_RESET, false),
    /**
     * The database refused the identity and the session is as it was: given back to UCP, labelled as what it still
     * runs as (after one more check under IdentityCheck=VERIFY); the caller gets a 28000.
     */
    REFUSED_GIVE_BACK(null, false);

    private final Discard discard;
    private final boolean tryAnother;

    BorrowVerdict(Discard discard, boolean tryAnother) {
        this.discard = discard;
        this.tryAnother = tryAnother;
    }

    /** Why the session is discarded; null when it is lent or given back. */
    Discard discard() {
        return discard;
    }

    /** Whether the borrow takes another session. */
    boolean tryAnother() {
        return tryAnother;
    }

    /** The session ran as it should: {@link #LEND}; it failed its identity check: the escape verdicts. */
    static BorrowVerdict ofCheck(boolean ranAsLabelled, boolean budgetLeft) {
        return ranAsLabelled ? LEND : budgetLeft ? ESCAPED_TRY_ANOTHER : ESCAPED_GIVE_UP;
    }

    /**
     * The verdict after the check or switch threw: {@code kind} is the error's one classification; {@code labelled}
     * whether the session had served someone (a fresh one's ordinary error is the caller's, not the session's);
     * {@code budgetLeft} whether the retry budget allows another session; {@code refusalEndsSession} the dialect's
     * {@link dev.proxyra.dialect.Dialect#refusalEndsSession}.
     */
    static BorrowVerdict ofFailure(ErrorKind kind, boolean labelled, boolean budgetLeft, boolean refusalEndsSession) {
        return switch (kind) {
            case IDENTITY_REFUSED -> refusalEndsSession ? REFUSED_SESSION_ENDED : REFUSED_GIVE_BACK;
            case FATAL -> budgetLeft ? DEAD_TRY_ANOTHER : DEAD_GIVE_UP;
            case OTHER -> labelled && budgetLeft ? FAILED_TRY_ANOTHER : FAILED_GIVE_UP;
        };
    }
}
