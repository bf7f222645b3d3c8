package dev.proxyra.config;

import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Loaded only after the API was found on the class path, so the adapter never needs it. The configuration is the
 * adapter's own (its class loader's), never that of the application whose thread happens to open the pool first: an
 * application's microprofile-config.properties must not configure a pool the server owns.
 */
final class MicroProfileConfig {
    private static final Logger LOG = Logger.getLogger(MicroProfileConfig.class.getName());

    private MicroProfileConfig() {
    }

    static ExternalConfig current() {
        Config config;
        try {
            config = ConfigProvider.getConfig(MicroProfileConfig.class.getClassLoader());
        } catch (RuntimeException | LinkageError e) {
            // The API is there but no implementation is: same as no MicroProfile Config at all.
            LOG.log(Level.FINE, "proxyra: MicroProfile Config API present but not usable", e);
            return ExternalConfig.NONE;
        }
        return key -> {
            Optional<String> value = config.getOptionalValue(key, String.class);
            return value.filter(v -> !v.isBlank());
        };
    }
}
