package dev.proxyra.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.proxyra.monitoring.PoolMetrics.Outcome;
import dev.proxyra.testing.LogCapture;

/** Counting and the refusal log's rate limit, on a clock the test moves. */
class PoolMetricsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final PoolMetrics metrics = new PoolMetrics("erp", now::get);
    private LogCapture log;

    @BeforeEach
    void capture() {
        log = LogCapture.on(PoolMetrics.class.getName(), Level.ALL);
    }

    @AfterEach
    void release() {
        log.close();
    }

    /** The attack: a flood of unauthenticated requests must not fill the disk. */
    @Test
    void aFloodOfRefusalsLogsOneWarningPerReasonPerMinuteAndCountsEveryOne() {
        for (int i = 0; i < 10_000; i++) {
            metrics.refused(Refusal.NO_CALLER, new SQLException("proxyra: no caller " + i, "28000"));
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1)); // 10 s in all
        }
        metrics.refused(Refusal.NOT_AUTHORIZED, new SQLException("proxyra: may not act as mallory", "28000"));

        assertThat(warnings()).extracting(LogRecord::getMessage)
                .containsExactly("proxyra: no caller 0 [SQLState 28000]", "proxyra: may not act as mallory [SQLState 28000]");
        assertThat(log.messages(Level.FINE)).hasSize(9_999);
        assertThat(metrics.refusals(Refusal.NO_CALLER)).isEqualTo(10_000);
        assertThat(metrics.refusals(Refusal.NOT_AUTHORIZED)).isEqualTo(1);

        // a minute after the first warning, the next refusal warns again and says how many were not warned about
        now.addAndGet(TimeUnit.SECONDS.toNanos(50));
        metrics.refused(Refusal.NO_CALLER, new SQLException("proxyra: no caller again", "28000"));
        assertThat(warnings()).hasSize(3);
        assertThat(warnings().get(2).getMessage()).startsWith("proxyra: no caller again [SQLState 28000]")
                .contains("pool erp: 9999 more refusals for the same reason, no caller");
    }

    @Test
    void eachEventMovesExactlyItsOwnCounter() {
        metrics.borrowed(Outcome.SWITCHED, TimeUnit.MICROSECONDS.toNanos(300), "bob");
        for (Outcome o : Outcome.values()) {
            assertThat(metrics.borrows(o)).as(o.name()).isEqualTo(o == Outcome.SWITCHED ? 1 : 0);
        }
        metrics.discarded(PoolMetrics.Discard.STATE_NOT_RESET);
        for (PoolMetrics.Discard d : PoolMetrics.Discard.values()) {
            assertThat(metrics.discards(d)).as(d.name()).isEqualTo(d == PoolMetrics.Discard.STATE_NOT_RESET ? 1 : 0);
        }
        assertThat(metrics.borrowCount()).isEqualTo(1);
        assertThat(metrics.borrowMicrosMax()).isEqualTo(300);
        assertThat(metrics.borrowMicrosAt(50)).isBetween(299L, 301L);
    }

    @Test
    void borrowTimesGivePercentilesAndAnExactTotalAndMaximum() {
        for (int i = 1; i <= 100; i++) {
            metrics.borrowed(Outcome.WARM, TimeUnit.MILLISECONDS.toNanos(i), "alice");
        }
        assertThat(metrics.borrowCount()).isEqualTo(100);
        assertThat(metrics.borrowMicrosTotal()).isEqualTo(5050 * 1000L);
        assertThat(metrics.borrowMicrosMax()).isEqualTo(100_000);
        assertThat(metrics.borrowMicrosAt(50)).isBetween(49_900L, 50_100L); // 3 significant digits
        assertThat(metrics.borrowMicrosAt(99)).isBetween(98_900L, 99_100L);
        assertThat(metrics.distinctIdentities()).isEqualTo(1);
    }

    @Test
    void distinctIdentitiesAreExactUpToTheCapAndThenAtLeast() {
        for (int i = 0; i < PoolMetrics.MAX_DISTINCT_IDENTITIES + 50; i++) {
            metrics.borrowed(Outcome.SWITCHED, 1_000, "caller" + i);
        }
        assertThat(metrics.distinctIdentities()).isEqualTo(PoolMetrics.MAX_DISTINCT_IDENTITIES);
        assertThat(metrics.summary()).endsWith("distinct identities=" + PoolMetrics.MAX_DISTINCT_IDENTITIES + "+");
    }

    private List<LogRecord> warnings() {
        return log.records().stream().filter(r -> r.getLevel() == Level.WARNING).toList();
    }
}
