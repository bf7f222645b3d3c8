package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.List;

import org.junit.jupiter.api.Test;

class SecretTest {
    @Test
    void equalsAgreesWithTheClearTexts() {
        List<String> values = List.of("", "s3cret", "s3cre", "s3creT", "t3cret", "s3cret ", "ünïcødé-pässwörd",
                "x".repeat(200), "x".repeat(199) + "y");
        for (String a : values) {
            for (String b : values) {
                assertThat(Secret.of(a).equals(Secret.of(b))).as("%s vs %s", a, b).isEqualTo(a.equals(b));
            }
        }
        assertThat(Secret.of("s3cret")).isNotEqualTo("s3cret").isNotEqualTo(null);
        assertThat(Secret.of("s3cret").hashCode()).isEqualTo(Secret.of("s3cret").hashCode());
    }

    @Test
    void noFieldHoldsTheClearText() throws Exception {
        Secret secret = Secret.of("hunter2-hunter2");
        for (Field f : Secret.class.getDeclaredFields()) {
            if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            f.setAccessible(true);
            Object value = f.get(secret);
            String printed = value instanceof char[] c ? new String(c) : String.valueOf(value);
            assertThat(printed).doesNotContain("hunter2");
        }
        assertThat(secret).hasToString("***");
    }

    @Test
    void scrubReplacesEveryOccurrence() {
        Secret secret = Secret.of("aba");
        assertThat(Secret.scrub("aba", secret)).isEqualTo("***");
        assertThat(Secret.scrub("xabay abaaba", secret)).isEqualTo("x***y ******");
        assertThat(Secret.scrub("ababa", secret)).as("left to right, no overlap").isEqualTo("***ba");
        assertThat(Secret.scrub("ab", secret)).isEqualTo("ab");
        assertThat(Secret.scrub("nothing here", secret, null)).isEqualTo("nothing here");
        assertThat(Secret.scrub("anything", Secret.of(""))).isEqualTo("anything");
        assertThat(Secret.scrub(null, secret)).isNull();
    }

    @Test
    void scrubFindsALongSecretPastTheKeyLength() {
        String clear = "p".repeat(70) + "q".repeat(70);
        assertThat(Secret.scrub("before " + clear + " after " + clear, Secret.of(clear)))
                .isEqualTo("before *** after ***");
    }
}
