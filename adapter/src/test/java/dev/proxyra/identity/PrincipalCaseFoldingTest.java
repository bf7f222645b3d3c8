package dev.proxyra.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.proxyra.config.ConfigResolver;
import dev.proxyra.config.ExternalConfig;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.config.ProxyraConfig.PrincipalCase;
import dev.proxyra.config.Setting;
import dev.proxyra.monitoring.Refusal;

/** PrincipalCase never makes one caller another caller's database user. */
class PrincipalCaseFoldingTest {

    private static DbIdentity resolve(String principalCase, String caller) throws SQLException {
        Map<Setting, Object> m = new EnumMap<>(Setting.class);
        m.put(Setting.URL, "jdbc:postgresql://h/db");
        m.put(Setting.PRINCIPAL_CASE, principalCase);
        ProxyraConfig config = ConfigResolver.resolve(m, ExternalConfig.NONE);
        CallerLookup source = new CallerLookup() {
            @Override
            public String description() {
                return "s";
            }

            @Override
            public List<String> candidates() {
                return List.of(caller);
            }
        };
        return new IdentityResolver(config, List.of(source)).resolve();
    }

    /** Names an attacker would sign up with, to become the user of a caller already there. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "LOWER, \u212Aim, U+212A", // KELVIN SIGN: k, as kim
            "LOWER, \u0130nci, U+0130", // dotted capital I: i (and a combining dot, in the full mapping)
            "LOWER, \u2126mega, U+2126", // OHM SIGN: ω, as Ωmega
            "LOWER, \u212Bngstr\u00F6m, U+212B", // ANGSTROM SIGN: å, as Ångström
            "LOWER, \u01C5ana, U+01C5", // titlecase Dž: dž, as Džana
            "LOWER, \u1E9Eauer, U+1E9E", // capital sharp s: ß, whose upper case is ß itself
            "UPPER, al\u0131ce, U+0131", // dotless ı: I, as ALICE
            "UPPER, \u017Fam, U+017F", // long s: S, as SAM
            "UPPER, \u00B5ller, U+00B5", // MICRO SIGN: Greek capital MU, as μller
            "UPPER, \u03C3\u03BF\u03C6\u03BF\u03C2, U+03C2", // final sigma: Σ, as the σ before it
            "UPPER, \u01C5ana, U+01C5", // titlecase Dž: DŽ, as džana
            "UPPER, \u03D0eta, U+03D0", // GREEK BETA SYMBOL: Β, as βeta
            "UPPER, a\u0345, U+0345", // combining ypogegrammeni: Ι, as aι
    })
    void aNameThatWouldFoldIntoAnothersIsRefusedNamingTheRuleAndTheCodePoint(String principalCase, String caller,
            String codePoint) {
        assertThatThrownBy(() -> resolve(principalCase, caller))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                .satisfies(e -> assertThat(Refusal.of((SQLException) e)).isEqualTo(Refusal.NOT_MAPPED))
                .hasMessageContaining("PrincipalCase=" + principalCase)
                .hasMessageContaining(codePoint);
    }

    @Test
    void plainNamesFoldAsBefore() throws SQLException {
        assertThat(resolve("UPPER", "alice").databaseUser()).isEqualTo("ALICE");
        assertThat(resolve("LOWER", "BoB").databaseUser()).isEqualTo("bob");
        assertThat(resolve("LOWER", "kim").databaseUser()).isEqualTo("kim");
        assertThat(resolve("UPPER", "o'brien-x.y_1@corp").databaseUser()).isEqualTo("O'BRIEN-X.Y_1@CORP");
        assertThat(resolve("LOWER", "J\u00D6RG").databaseUser()).isEqualTo("j\u00F6rg");
        assertThat(resolve("UPPER", "\u03C3\u03BF\u03C6\u03B9\u03B1").databaseUser()).isEqualTo("\u03A3\u039F\u03A6\u0399\u0391");
        // outside the Basic Multilingual Plane: Deseret capital and small long I
        assertThat(resolve("LOWER", "\uD801\uDC00x").databaseUser()).isEqualTo("\uD801\uDC28x");
        assertThat(resolve("AS_IS", "\u212Aim").databaseUser()).isEqualTo("\u212Aim");
    }

    @Test
    void namesThatOnlyTheFullMappingsWouldJoinStayApart() throws SQLException {
        // String.toUpperCase would make both SS; String.toLowerCase would give İ two code points
        assertThat(resolve("UPPER", "stra\u00DFe").databaseUser()).isEqualTo("STRA\u00DFE");
        assertThat(resolve("UPPER", "strasse").databaseUser()).isEqualTo("STRASSE");
        assertThat(resolve("UPPER", "\u0130nci").databaseUser()).isEqualTo("\u0130NCI");
        // final sigma is left as it is by LOWER, never made the σ of another name
        assertThat(resolve("LOWER", "\u03A3\u039F\u03A6\u039F\u03A3").databaseUser()).isEqualTo("\u03C3\u03BF\u03C6\u03BF\u03C3");
        assertThat(resolve("LOWER", "\u03C3\u03BF\u03C6\u03BF\u03C2").databaseUser()).isEqualTo("\u03C3\u03BF\u03C6\u03BF\u03C2");
    }

    /**
     * Over every code point: those a fold accepts meet another only as its own case pair (at most two per folded
     * code point, each the other's simple upper and lower case), and the folded code point folds to itself. Names
     * fold code point by code point, so two accepted names with one database user are case variants of each other.
     */
    @Test
    void everyCodePointMeetsAnotherOnlyAsItsCasePair() throws SQLException {
        for (PrincipalCase principalCase : List.of(PrincipalCase.LOWER, PrincipalCase.UPPER)) {
            Map<Integer, List<Integer>> byFolded = new HashMap<>();
            int refused = 0;
            for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                if (Character.getType(cp) == Character.SURROGATE) {
                    continue;
                }
                String folded;
                try {
                    folded = IdentityResolver.fold(new String(Character.toChars(cp)), principalCase, "s");
                } catch (SQLException e) {
                    refused++;
                    continue;
                }
                assertThat(folded.codePointCount(0, folded.length())).isEqualTo(1);
                int to = folded.codePointAt(0);
                assertThat(IdentityResolver.fold(folded, principalCase, "s")).isEqualTo(folded);
                byFolded.computeIfAbsent(to, k -> new ArrayList<>()).add(cp);
            }
            for (Map.Entry<Integer, List<Integer>> e : byFolded.entrySet()) {
                List<Integer> sources = e.getValue();
                assertThat(sources).as("%s U+%04X", principalCase, e.getKey()).hasSizeLessThanOrEqualTo(2);
                if (sources.size() == 2) {
                    int a = sources.get(0);
                    int b = sources.get(1);
                    boolean casePair = (Character.toUpperCase(a) == b && Character.toLowerCase(b) == a)
                            || (Character.toUpperCase(b) == a && Character.toLowerCase(a) == b);
                    assertThat(casePair).as("%s U+%04X and U+%04X", principalCase, a, b).isTrue();
                }
            }
            // the attackers' letters are among the refused, and nothing common is
            assertThat(refused).as(principalCase.name()).isBetween(10, 500);
        }
    }
}
