package dev.proxyra.testing;

/**
 * A dedicated embedded PostgreSQL for destructive and observing scenarios, never shared with
 * {@link PostgresExtension}'s: restartable on the same port and data directory while clients run, asking the proxy
 * account for its password (so a wrong password is refused), recording every statement with the role it ran as.
 */
public final class RestartableDatabaseExtension extends DatabaseExtension {
    public RestartableDatabaseExtension() {
        super(() -> Database.embedded().restartable().passwordLogins().statementStats().start(),
                "the reliability PostgreSQL");
    }
}
