package dev.proxyra.monitoring;

import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What one pool counts. Each event moves its own counter; recording is LongAdder adds and one record in an
 * HdrHistogram ConcurrentHistogram (a few atomic adds), nothing that locks on the borrow path.
 * <p>
 * Refusals are also logged, at most one WARNING per reason per minute with the count of those not logged since; every
 * refusal is logged at FINE. An attack of unauthenticated requests therefore adds one line a minute (six if every
 * reason occurs) at most, while the counters keep the exact figures.
 */
public final class PoolMetrics {
    private static final Logger LOG = Logger.getLogger(PoolMetrics.class.getName());
    static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Distinct identities are counted exactly up to this many; beyond, the figure says "at least". */
    public static final int MAX_DISTINCT_IDENTITIES = 10_000;

    /** How a borrow was served. */
    public enum Outcome {
        /** A pooled session already running as the caller. */
        WARM,
        /** A pooled session that ran as someone else, switched (and reset) for the caller. */
        SWITCHED,
        /** A physical connection opened for this borrow. */
        NEW_PHYSICAL
    }

    /** Why a physical connection was thrown away. */
    public enum Discard {
        /** The driver reported a fatal error on it, or it was found dead. */
        FATAL_ERROR,
        /** Application SQL or code outside proxyra may have changed its identity, or did. */
        IDENTITY_CHANGED,
        /** What a caller left on it could not be reset or restored. */
        STATE_NOT_RESET
    }

    private final String poolName;
    private final LongAdder[] outcomes = adders(Outcome.values().length);
    private final LongAdder[] refusals = adders(Refusal.values().length);
    private final LongAdder[] discards = adders(Discard.values().length);
    private final RateLimitedLog[] refusalLogs = new RateLimitedLog[Refusal.values().length];
    /** Borrow times in microseconds, 3 significant digits, from 1 µs to an hour (more is recorded as an hour). */
    private final Histogram borrowMicros = new ConcurrentHistogram(TimeUnit.HOURS.toMicros(1), 3);
    private final LongAdder borrowMicrosTotal = new LongAdder();
    private final AtomicLong borrowMicrosMax = new AtomicLong();
    private final AtomicInteger peakBorrowed = new AtomicInteger();
    private final Set<String> identities = ConcurrentHashMap.newKeySet();
    private final LongSupplier nanoClock;

    public PoolMetrics(String poolName) {
        this(poolName, System::nanoTime);
    }

    /** With the clock the refusal log's interval is measured on. */
    PoolMetrics(String poolName, LongSupplier nanoClock) {
        this.poolName = poolName;
        this.nanoClock = nanoClock;
        for (int i = 0; i < refusalLogs.length; i++) {
            refusalLogs[i] = new RateLimitedLog();
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** A borrow served, with the time it took from the request to a session ready for the caller. */
    public void borrowed(Outcome outcome, long nanos, String identityLabel) {
        outcomes[outcome.ordinal()].increment();
        long micros = Math.max(0, TimeUnit.NANOSECONDS.toMicros(nanos));
        borrowMicros.recordValue(Math.min(micros, borrowMicros.getHighestTrackableValue()));
        borrowMicrosTotal.add(micros);
        if (micros > borrowMicrosMax.get()) {
            borrowMicrosMax.accumulateAndGet(micros, Math::max);
        }
        if (identities.size() < MAX_DISTINCT_IDENTITIES && !identities.contains(identityLabel)) {
            identities.add(identityLabel);
        }
    }

    /** The number of physical connections lent out just went up to {@code lent}. */
    public void lentOut(int lent) {
        if (lent > peakBorrowed.get()) {
            peakBorrowed.accumulateAndGet(lent, Math::max);
        }
    }

    /** Counts a refusal and logs it, rate-limited per reason. */
    public void refused(Refusal reason, SQLException e) {
        refusals[reason.ordinal()].increment();
        refusalLogs[reason.ordinal()].log(() -> e.getMessage() + " [SQLState " + e.getSQLState() + "]", reason);
    }

    public void discarded(Discard reason) {
        discards[reason.ordinal()].increment();
    }

    public long borrows(Outcome outcome) {
        return outcomes[outcome.ordinal()].sum();
    }

    public long refusals(Refusal reason) {
        return refusals[reason.ordinal()].sum();
    }

    public long discards(Discard reason) {
        return discards[reason.ordinal()].sum();
    }

    public long borrowCount() {
        return borrowMicros.getTotalCount();
    }

    public long borrowMicrosTotal() {
        return borrowMicrosTotal.sum();
    }

    public long borrowMicrosMax() {
        return borrowMicrosMax.get();
    }

    /** The borrow time below which {@code percentile} percent of borrows took, in microseconds (0 before any). */
    public long borrowMicrosAt(double percentile) {
        return borrowMicros.getTotalCount() == 0 ? 0 : borrowMicros.getValueAtPercentile(percentile);
    }

    public int peakBorrowed() {
        return peakBorrowed.get();
    }

    /** Distinct database identities served, exact up to {@link #MAX_DISTINCT_IDENTITIES}. */
    public int distinctIdentities() {
        return identities.size();
    }

    /** The counters in one line, for the pool's stop message. */
    public String summary() {
        StringBuilder sb = new StringBuilder("borrows ");
        for (Outcome o : Outcome.values()) {
            sb.append(o.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')).append('=').append(borrows(o)).append(' ');
        }
        sb.append("(p50 ").append(borrowMicrosAt(50)).append(" µs, p99 ").append(borrowMicrosAt(99))
                .append(" µs, max ").append(borrowMicrosMax()).append(" µs); refusals");
        for (Refusal r : Refusal.values()) {
            sb.append(' ').append(r.label().replace(' ', '-')).append('=').append(refusals(r));
        }
        sb.append("; discarded");
        for (Discard d : Discard.values()) {
            sb.append(' ').append(d.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')).append('=').append(discards(d));
        }
        return sb.append("; distinct identities=").append(distinctIdentities())
                .append(distinctIdentities() >= MAX_DISTINCT_IDENTITIES ? "+" : "").toString();
    }

    /** One WARNING per interval, saying how many were only logged at FINE since the last one. */
    private final class RateLimitedLog {
        private final AtomicLong lastWarning = new AtomicLong(nanoClock.getAsLong() - LOG_INTERVAL_NANOS);
        private final LongAdder sinceLastWarning = new LongAdder();

        void log(java.util.function.Supplier<String> message, Refusal reason) {
            long now = nanoClock.getAsLong();
            long last = lastWarning.get();
            if (now - last >= LOG_INTERVAL_NANOS && lastWarning.compareAndSet(last, now)) {
                long skipped = sinceLastWarning.sumThenReset();
                if (LOG.isLoggable(Level.WARNING)) {
                    LOG.warning(message.get() + (skipped == 0 ? "" : " (pool " + poolName + ": " + skipped + " more"
                            + " refusals for the same reason, " + reason.label() + ", since the last such warning;"
                            + " see the pool's MBean for all counters)"));
                }
            } else {
                sinceLastWarning.increment();
                if (LOG.isLoggable(Level.FINE)) {
                    LOG.fine(message.get());
                }
            }
        }
    }
}
