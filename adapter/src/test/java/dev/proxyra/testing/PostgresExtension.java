package dev.proxyra.testing;

/** The embedded PostgreSQL most tests share: {@code Database.embedded()}, trusting 127.0.0.1. */
public final class PostgresExtension extends DatabaseExtension {
    public PostgresExtension() {
        super(() -> Database.embedded().start(), "embedded PostgreSQL");
    }
}
