package dev.proxyra.config;

import java.util.regex.Pattern;

/** Removes secrets from text that may reach a log line or an exception. */
public final class Redact {
    private static final Pattern URL_SECRET = Pattern.compile(
            "(?i)((?:password|passwd|pwd|sslpassword)\\s*=\\s*)[^&;)\\s]*");
    private static final Pattern URL_USERINFO = Pattern.compile("(//[^/@:]+):[^/@]*@");

    private Redact() {
    }

    /** Settings text such as ONSConfiguration with any {@code ...password=} value replaced by ***. */
    public static String settings(String text) {
        return text == null ? null : URL_SECRET.matcher(text).replaceAll("$1***");
    }

    /** A JDBC URL with any password parameter or user-info password replaced by ***. */
    public static String url(String url) {
        if (url == null) {
            return null;
        }
        String s = URL_SECRET.matcher(url).replaceAll("$1***");
        s = URL_USERINFO.matcher(s).replaceAll("$1:***@");
        // Oracle's user/password@host form
        return s.replaceAll("(jdbc:oracle:[a-z]+:[^/@:]+)/[^@]*@", "$1/***@");
    }
}
