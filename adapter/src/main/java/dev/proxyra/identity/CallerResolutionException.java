package dev.proxyra.identity;

/** A caller source that failed (could not be loaded, threw): the request must fail, not fall through. */
final class CallerResolutionException extends Exception {
    private static final long serialVersionUID = 1L;

    CallerResolutionException(String message, Throwable cause) {
        super(message, cause);
    }
}
