package dev.proxyra.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The caller's name as application_name, without a database: what the encoding keeps, what it escapes, where it cuts;
 * and the attacker's names, which must come out as one printable-ASCII value of at most 63 bytes. The database side
 * (the statement runs as one SET, the server reports exactly the value sent) is in ApplicationNameTest.
 */
class PostgresCallerSettingsTest {

    @Test
    void printableAsciiStaysAsItIsAndNoCallerSetsNothing() {
        assertThat(PostgresCallerSettings.applicationNameFor("alice")).isEqualTo("alice");
        assertThat(PostgresCallerSettings.applicationNameFor("o'brien \"x\" \\ ;")).isEqualTo("o'brien \"x\" \\ ;");
        assertThat(PostgresCallerSettings.applicationNameFor(null)).isNull();
        assertThat(PostgresCallerSettings.applicationNameFor("")).isNull();
    }

    @Test
    void controlCharactersNonAsciiAndThePercentSignAreTheirUtf8BytesEachAsPercentHex() {
        assertThat(PostgresCallerSettings.applicationNameFor("Zoë")).isEqualTo("Zo%C3%AB");
        assertThat(PostgresCallerSettings.applicationNameFor("bob\nadmin\r\t")).isEqualTo("bob%0Aadmin%0D%09");
        assertThat(PostgresCallerSettings.applicationNameFor("100%")).isEqualTo("100%25");
        assertThat(PostgresCallerSettings.applicationNameFor("a\u0000b\u007f")).isEqualTo("a%00b%7F");
        assertThat(PostgresCallerSettings.applicationNameFor("\uD83D\uDE00")).isEqualTo("%F0%9F%98%80"); // one code point
    }

    /** Two callers never look alike: "100%25" as a name is not the encoding of "100%". */
    @Test
    void theEncodingIsUnambiguous() {
        assertThat(PostgresCallerSettings.applicationNameFor("100%25"))
                .isNotEqualTo(PostgresCallerSettings.applicationNameFor("100%"));
    }

    @Test
    void aLongNameIsCutTo63BytesBetweenTwoOfItsCharactersNeverInsideOnesEncodingAndMarked() throws Exception {
        assertThat(PostgresCallerSettings.applicationNameFor("x".repeat(63))).as("63 bytes: whole").isEqualTo("x".repeat(63));
        assertThat(PostgresCallerSettings.applicationNameFor("x".repeat(100))).isEqualTo("x".repeat(53) + cut("x".repeat(100)));
        // 53 bytes and the marker: an encoded ë (6 bytes) after 50 does not fit before it
        String accented = "y".repeat(50) + "ëz" + "y".repeat(20);
        assertThat(PostgresCallerSettings.applicationNameFor(accented)).isEqualTo("y".repeat(50) + cut(accented));
        String late = "y".repeat(47) + "ëz" + "y".repeat(20);
        assertThat(PostgresCallerSettings.applicationNameFor(late)).isEqualTo("y".repeat(47) + "%C3%AB" + cut(late));
        String emoji = "\uD83D\uDE00".repeat(10); // 12 bytes each encoded: four fit before the marker
        assertThat(PostgresCallerSettings.applicationNameFor(emoji)).isEqualTo("%F0%9F%98%80".repeat(4) + cut(emoji));
    }

    /**
     * The attack on the cut: two long names that share their first 63 bytes (an impostor of a long name) get different
     * values, and no short name can pass for a cut one ("%~" never comes out of the encoding).
     */
    @Test
    void twoLongNamesThatShareTheirStartDifferAndNoNameLooksCut() {
        String victim = "department-of-long-names/" + "a".repeat(60) + "/alice";
        String impostor = "department-of-long-names/" + "a".repeat(60) + "/mallory";
        String shown = PostgresCallerSettings.applicationNameFor(victim);
        assertThat(PostgresCallerSettings.applicationNameFor(impostor)).isNotEqualTo(shown);
        assertThat(PostgresCallerSettings.applicationNameFor(shown)).as("the cut value, taken as a name").isNotEqualTo(shown);
        assertThat(PostgresCallerSettings.applicationNameFor("abc%~12345678")).isEqualTo("abc%25~12345678");
    }

    /** The cut's marker, written out independently: %~ and the first 4 bytes of the name's SHA-256 in hex. */
    private static String cut(String name) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return String.format("%%~%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"x'; DROP TABLE x; --", "x\\'; DROP TABLE x; --", "a\\", "'", "\\'", "x\nSET ROLE bob",
            "$$; DROP TABLE x; $$", "E'\\x27'", "ééééééééééééééééééééééééééééééééééééééééééé", "\u202Eevil", "\uDC00lone surrogate"})
    void anAttackersNameBecomesOnePrintableAsciiValueInOneLiteral(String caller) {
        String value = PostgresCallerSettings.applicationNameFor(caller);
        assertThat(value.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(63);
        assertThat(value.chars()).allMatch(c -> c >= 0x20 && c <= 0x7e);
        String sql = PostgresCallerSettings.setApplicationName(value);
        assertThat(sql).startsWith("SET application_name = E'").endsWith("'");
        String literal = sql.substring("SET application_name = E'".length(), sql.length() - 1);
        // inside the E'' literal every quote is doubled and every backslash escaped: nothing ends it early
        assertThat(literal.replace("\\\\", "").replace("''", "")).doesNotContain("'").doesNotContain("\\");
    }

    /** A role found without settings is left out for a while; one with settings is asked on every switch. */
    @Test
    void aRoleFoundWithoutSettingsIsLeftOutUntilItsAnswerIsStaleAndOneWithSettingsIsAlwaysAsked() {
        long[] now = {0};
        PostgresCallerSettings.KnownWithout known = new PostgresCallerSettings.KnownWithout(() -> now[0]);
        assertThat(known.has("alice")).as("never asked").isFalse();
        known.found("alice", 0);
        known.found("bob", 2);
        assertThat(known.has("alice")).isTrue();
        assertThat(known.has("bob")).isFalse();
        now[0] += java.util.concurrent.TimeUnit.SECONDS.toNanos(PostgresCallerSettings.KnownWithout.FRESH_SECONDS) - 1;
        assertThat(known.has("alice")).isTrue();
        now[0] += 1;
        assertThat(known.has("alice")).as("stale: asked again").isFalse();
        known.found("alice", 0);
        known.found("alice", 1); // the role was given settings: asked from now on
        assertThat(known.has("alice")).isFalse();
    }

    /** The attacker with many identities cannot grow it without bound. */
    @Test
    void itHoldsABoundedNumberOfRoles() {
        PostgresCallerSettings.KnownWithout known = new PostgresCallerSettings.KnownWithout(() -> 0);
        for (int i = 0; i < 100_000; i++) {
            known.found("caller" + i, 0);
        }
        assertThat(known.has("caller99999")).isTrue();
        assertThat(known.has("caller0")).as("the least recently used went").isFalse();
    }
}
