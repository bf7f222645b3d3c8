package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import javax.transaction.xa.XAException;
import javax.transaction.xa.Xid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.proxyra.dialect.Dialect;
import dev.proxyra.dialect.PostgresTwoPhase;
import dev.proxyra.spi.XaBranch.Step;
import dev.proxyra.testing.XaBranches.TestXid;

/** The XA decisions without a database: branch moves, error codes, branch names (gids). */
class XaDecisionTest {

    // ---- branch moves ----

    /** Every allowed move; anything else is XAER_PROTO. */
    private static final Map<XaBranch, Map<Step, XaBranch>> ALLOWED = Map.of(
            XaBranch.NONE, Map.of(Step.START, XaBranch.ACTIVE, Step.RELEASE, XaBranch.NONE),
            XaBranch.ACTIVE, Map.of(Step.END_SUCCESS, XaBranch.ENDED, Step.END_SUSPEND, XaBranch.SUSPENDED,
                    Step.END_FAIL, XaBranch.ROLLBACK_ONLY, Step.ROLLBACK, XaBranch.NONE, Step.RELEASE, XaBranch.NONE),
            XaBranch.SUSPENDED, Map.of(Step.RESUME, XaBranch.ACTIVE, Step.END_SUCCESS, XaBranch.ENDED,
                    Step.END_FAIL, XaBranch.ROLLBACK_ONLY, Step.ROLLBACK, XaBranch.NONE, Step.RELEASE, XaBranch.NONE),
            XaBranch.ENDED, Map.of(Step.JOIN, XaBranch.ACTIVE, Step.END_FAIL, XaBranch.ROLLBACK_ONLY,
                    Step.COMPLETE, XaBranch.NONE, Step.ROLLBACK, XaBranch.NONE, Step.RELEASE, XaBranch.NONE),
            XaBranch.ROLLBACK_ONLY, Map.of(Step.END_FAIL, XaBranch.ROLLBACK_ONLY, Step.COMPLETE, XaBranch.NONE,
                    Step.ROLLBACK, XaBranch.NONE, Step.RELEASE, XaBranch.NONE));

    @Test
    void everyStateAndStepMovesAsTheTableSaysOrIsAProtocolError() throws XAException {
        for (XaBranch from : XaBranch.values()) {
            for (Step step : Step.values()) {
                XaBranch expected = ALLOWED.get(from).get(step);
                if (expected != null) {
                    assertThat(from.after(step)).as(from + " " + step).isEqualTo(expected);
                } else {
                    XAException e = catchThrowableOfType(XAException.class, () -> from.after(step));
                    assertThat(e).as(from + " " + step).isNotNull();
                    assertThat(e.errorCode).as(from + " " + step).isEqualTo(XAException.XAER_PROTO);
                }
            }
        }
    }

    @Test
    void aBranchCannotBePreparedOrCommittedWhileActiveNorStartedTwice() {
        for (XaBranch from : EnumSet.of(XaBranch.ACTIVE, XaBranch.SUSPENDED, XaBranch.NONE)) {
            assertThatThrownBy(() -> from.after(Step.COMPLETE)).isInstanceOf(XAException.class);
        }
        for (XaBranch from : EnumSet.complementOf(EnumSet.of(XaBranch.NONE))) {
            assertThatThrownBy(() -> from.after(Step.START)).isInstanceOf(XAException.class);
        }
    }

    // ---- error codes ----

    @ParameterizedTest
    @CsvSource({
        "40P01, OTHER, " + XAException.XA_RBDEADLOCK,
        "40001, OTHER, " + XAException.XA_RBTRANSIENT,
        "23505, OTHER, " + XAException.XA_RBINTEGRITY,
        "23503, OTHER, " + XAException.XA_RBINTEGRITY,
        "57014, OTHER, " + XAException.XA_RBTIMEOUT,
        "0A000, OTHER, " + XAException.XA_RBROLLBACK, // PREPARE refused: temporary objects, LISTEN, WITH HOLD cursors
        "25P02, OTHER, " + XAException.XA_RBROLLBACK,
        "08006, FATAL, " + XAException.XAER_RMFAIL, // the branch may be prepared: recovery decides
        "57P01, FATAL, " + XAException.XAER_RMFAIL,
        "40001, FATAL, " + XAException.XAER_RMFAIL,
    })
    void aFailedPrepareOrOnePhaseCommitIsARollbackUnlessTheConnectionFailed(String state, Dialect.ErrorKind kind,
            int code) {
        assertThat(XaErrors.ofCompletion(new SQLException("x", state), kind)).isEqualTo(code);
    }

    @ParameterizedTest
    @CsvSource({
        "42704, " + XAException.XAER_NOTA, // no such prepared transaction: finished meanwhile
        "42501, " + XAException.XAER_RMFAIL, // not the owner: stays prepared
        "08006, " + XAException.XAER_RMFAIL,
        "XX000, " + XAException.XAER_RMFAIL,
        ", " + XAException.XAER_RMFAIL,
    })
    void aFailedCommitOrRollbackPreparedIsNeverAnRmErr(String state, int code) {
        assertThat(XaErrors.ofFinish(new SQLException("x", state))).isEqualTo(code).isNotEqualTo(XAException.XAER_RMERR);
    }

    @Test
    void noDecisionEverAnswersRmErr() {
        for (String state : new String[] {null, "XX000", "42501", "42704", "08006", "0A000", "40001", "55000"}) {
            for (Dialect.ErrorKind kind : Dialect.ErrorKind.values()) {
                assertThat(XaErrors.ofCompletion(new SQLException("x", state), kind)).isNotEqualTo(XAException.XAER_RMERR);
            }
            assertThat(XaErrors.ofFinish(new SQLException("x", state))).isNotEqualTo(XAException.XAER_RMERR);
        }
    }

    // ---- branch names ----

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 37);
        }
        return b;
    }

    @Test
    void gidsRoundTripForOddFormatIdsAndEmptyOrFullParts() {
        for (int formatId : new int[] {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x1234, 131077}) {
            for (int g : new int[] {0, 1, 63, 64}) {
                for (int b : new int[] {0, 1, 64}) {
                    Xid xid = new TestXid(formatId, bytes(g, formatId), bytes(b, g));
                    String gid = PostgresTwoPhase.gid(xid);
                    assertThat(gid.length()).as(gid).isLessThanOrEqualTo(199);
                    assertThat(gid).matches("-?[0-9]+_[A-Za-z0-9+/=]*_[A-Za-z0-9+/=]*");
                    Xid back = PostgresTwoPhase.xid(gid);
                    assertThat(back).as(gid).isNotNull();
                    assertThat(back.getFormatId()).isEqualTo(formatId);
                    assertThat(back.getGlobalTransactionId()).isEqualTo(xid.getGlobalTransactionId());
                    assertThat(back.getBranchQualifier()).isEqualTo(xid.getBranchQualifier());
                    assertThat(back).isEqualTo(PostgresTwoPhase.copyOf(xid));
                    assertThat(PostgresTwoPhase.copyOf(xid).equals(xid)).isTrue();
                }
            }
        }
    }

    /** The gid pgjdbc's RecoveredXid.xidToString gives: formatId, '_', base64 of gtrid, '_', base64 of bqual. */
    @Test
    void theGidIsPgjdbcs() {
        Xid xid = new TestXid(4660, "gtrid".getBytes(StandardCharsets.US_ASCII), "bq".getBytes(StandardCharsets.US_ASCII));
        assertThat(PostgresTwoPhase.gid(xid)).isEqualTo("4660_Z3RyaWQ=_YnE=");
    }

    @Test
    void gidsOfOthersAreNotXids() {
        for (String gid : new String[] {"", "foo", "_a_b", "x_Z3RyaWQ=_YnE=", "1_Z3RyaWQ=", "1_**_YnE=", "1__"}) {
            if (gid.equals("1__")) {
                assertThat(PostgresTwoPhase.xid(gid)).as("empty parts are pgjdbc's too").isNotNull();
            } else {
                assertThat(PostgresTwoPhase.xid(gid)).as(gid).isNull();
            }
        }
        assertThat(PostgresTwoPhase.xid("1_" + "A".repeat(88) + "_AA==")).as("65-byte gtrid").isNull();
    }

    /** An attacker's xid: bytes that spell SQL with a quote only ever reach SQL as base64. */
    @Test
    void anXidSpellingAQuoteCannotEndTheLiteral() {
        byte[] evil = "x'; DROP TABLE x; --".getBytes(StandardCharsets.UTF_8);
        Xid xid = new TestXid(-39, evil, evil);
        String sql = PostgresTwoPhase.prepareSql(xid);
        assertThat(sql).startsWith("PREPARE TRANSACTION '").endsWith("'");
        assertThat(sql.substring("PREPARE TRANSACTION '".length(), sql.length() - 1)).doesNotContain("'", ";", " ");
        assertThat(PostgresTwoPhase.finishSql(PostgresTwoPhase.gid(xid), true)).startsWith("COMMIT PREPARED '");
        for (String forged : Set.of("1_a'_b", "1_a_b'; DROP TABLE x; --", "1_a_b\\", "1 _a_b")) {
            assertThatThrownBy(() -> PostgresTwoPhase.finishSql(forged, false))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(Arrays.asList(PostgresTwoPhase.gid(xid).split("_"))).hasSize(3);
    }
}
