package dev.proxyra.identity;

/** A caller source that failed (could not be loaded, threw): the request must fail, not fall through. */
final class CallerResolutionException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean configuration;

    CallerResolutionException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /** {@code configuration}: the source is configured wrongly (its class cannot be used), not failing now. */
    CallerResolutionException(String message, Throwable cause, boolean configuration) {
        super(message, cause);
        this.configuration = configuration;
    }

    boolean isConfiguration() {
        return configuration;
    }
}
