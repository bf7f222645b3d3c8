package dev.proxyra.config;

import java.util.regex.Pattern;

/** Removes secrets from text that may reach a log line or an exception. */
public final class Redact {
    /**
     * A password parameter's value, up to the next {@code &}: pgjdbc (and Oracle's Easy Connect parameters) split a
     * URL's parameters at {@code &} only, so a {@code ;}, {@code )} or space is part of the password, and so is
     * everything after it up to the next parameter. The name matches in any case and URL-encoded {@code =}, and
     * inside longer names (sslpassword, wallet_password): masking too much costs nothing.
     */
    private static final Pattern URL_SECRET = Pattern.compile(
            "(?i)((?:password|passwd|pwd)\\s*(?:=|%3D)\\s*)[^&\\r\\n]*");
    /** In settings such as ONSConfiguration, one per line: the value runs to the end of the line. */
    private static final Pattern SETTINGS_SECRET = Pattern.compile("(?i)((?:password|passwd|pwd)\\s*=\\s*)[^\\r\\n]*");
    private static final Pattern URL_USERINFO = Pattern.compile("(//[^/@:]+):[^/@]*@");
    /** Oracle's user/password@connect-string, the password perhaps quoted (then it may hold an @). */
    private static final Pattern ORACLE_USER_PASSWORD = Pattern.compile("(jdbc:oracle:[a-z]+:[^/@:]+)/(?:\"[^\"]*\"|[^@]*)@");

    private Redact() {
    }

    /** Settings text such as ONSConfiguration with any {@code ...password=} value replaced by ***. */
    public static String settings(String text) {
        return text == null ? null : SETTINGS_SECRET.matcher(text).replaceAll("$1***");
    }

    /** A JDBC URL with any password parameter or user-info password replaced by ***. */
    public static String url(String url) {
        if (url == null) {
            return null;
        }
        String s = URL_SECRET.matcher(url).replaceAll("$1***");
        s = URL_USERINFO.matcher(s).replaceAll("$1:***@");
        return ORACLE_USER_PASSWORD.matcher(s).replaceAll("$1/***@");
    }
}
