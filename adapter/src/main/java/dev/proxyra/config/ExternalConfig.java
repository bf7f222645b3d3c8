package dev.proxyra.config;

import java.util.Map;
import java.util.Optional;

/** A source of configuration values below the pool's own properties, such as MicroProfile Config. */
@FunctionalInterface
public interface ExternalConfig {
    ExternalConfig NONE = key -> Optional.empty();

    Optional<String> get(String key);

    static ExternalConfig of(Map<String, String> values) {
        return key -> Optional.ofNullable(values.get(key));
    }

    /**
     * MicroProfile Config of the adapter's class loader (the server's sources: environment, system properties,
     * secrets directories, password aliases) when an implementation is present, otherwise nothing: the adapter
     * works without it.
     */
    static ExternalConfig microProfile() {
        try {
            Class.forName("org.eclipse.microprofile.config.ConfigProvider", false, ExternalConfig.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return NONE;
        }
        return MicroProfileConfig.current();
    }
}
