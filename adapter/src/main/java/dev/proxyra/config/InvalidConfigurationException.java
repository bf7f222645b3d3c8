package dev.proxyra.config;

/**
 * A configuration value that cannot be used. The message names the property, the offending value
 * (never a secret) and what is allowed.
 */
public final class InvalidConfigurationException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidConfigurationException(String message) {
        super(message);
    }
}
