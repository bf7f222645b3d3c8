package dev.proxyra.config;

import java.security.SecureRandom;

/**
 * A password held so that no field of any object the adapter keeps contains it in clear text: servers'
 * diagnostic dumps (Liberty's FFDC, heap-walking loggers) print objects field by field. The characters are
 * kept masked with a key that lives only in a static field of this class; {@link #reveal()} unmasks them
 * for the moment they are sent to the driver. {@link #toString()} shows {@code ***}.
 */
public final class Secret {
    private static final char[] KEY = randomKey();

    private final char[] masked;

    private Secret(char[] masked) {
        this.masked = masked;
    }

    /** Null for null, so an unset password stays unset. */
    public static Secret of(String clear) {
        if (clear == null) {
            return null;
        }
        char[] m = new char[clear.length()];
        for (int i = 0; i < m.length; i++) {
            m[i] = (char) (clear.charAt(i) ^ KEY[i % KEY.length]);
        }
        return new Secret(m);
    }

    public static String reveal(Secret secret) {
        return secret == null ? null : secret.reveal();
    }

    /** The clear text, for handing to the driver; never store the result. */
    public String reveal() {
        char[] c = new char[masked.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = (char) (masked[i] ^ KEY[i % KEY.length]);
        }
        return new String(c);
    }

    /** Whether {@code clear} is this secret, compared without unmasking it into a String. */
    public boolean matches(char[] clear) {
        if (clear == null || clear.length != masked.length) {
            return false;
        }
        int diff = 0;
        for (int i = 0; i < clear.length; i++) {
            diff |= clear[i] ^ masked[i] ^ KEY[i % KEY.length];
        }
        return diff == 0;
    }

    /**
     * Compares the masked characters: both are masked with the one key of this class, so they are equal exactly
     * when the clear texts are, and neither is unmasked (pool registry lookups and configuration comparisons call
     * this often). Constant time for secrets of one length.
     */
    @Override
    public boolean equals(Object other) {
        if (!(other instanceof Secret s) || s.masked.length != masked.length) {
            return false;
        }
        int diff = 0;
        for (int i = 0; i < masked.length; i++) {
            diff |= masked[i] ^ s.masked[i];
        }
        return diff == 0;
    }

    @Override
    public int hashCode() {
        return masked.length;
    }

    @Override
    public String toString() {
        return "***";
    }

    private static char[] randomKey() {
        SecureRandom random = new SecureRandom();
        char[] key = new char[64];
        for (int i = 0; i < key.length; i++) {
            key[i] = (char) (1 + random.nextInt(0xFFFE));
        }
        return key;
    }

    /** Removes {@code secrets} (and password parameters of URLs) from text that may reach a message or log. */
    public static String scrub(String text, Secret... secrets) {
        if (text == null) {
            return null;
        }
        String s = text;
        for (Secret secret : secrets) {
            if (secret != null) {
                s = secret.maskedIn(s);
            }
        }
        return Redact.url(s);
    }

    /** {@code text} with every occurrence of this secret replaced by {@code ***}, found without unmasking it. */
    private String maskedIn(String text) {
        int n = masked.length;
        if (n == 0 || text.length() < n) {
            return text;
        }
        StringBuilder out = null;
        int copied = 0;
        for (int at = 0; at <= text.length() - n; ) {
            if (occursAt(text, at)) {
                if (out == null) {
                    out = new StringBuilder(text.length());
                }
                out.append(text, copied, at).append("***");
                at += n;
                copied = at;
            } else {
                at++;
            }
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    private boolean occursAt(String text, int at) {
        for (int i = 0; i < masked.length; i++) {
            if ((text.charAt(at + i) ^ KEY[i % KEY.length]) != masked[i]) {
                return false;
            }
        }
        return true;
    }
}
