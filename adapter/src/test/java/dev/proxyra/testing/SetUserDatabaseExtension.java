package dev.proxyra.testing;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Debian's PostgreSQL 15 with set_user ({@code Database.withSetUser()}); skips each test, saying what is missing,
 * where it or its set_user extension is not installed.
 */
public final class SetUserDatabaseExtension extends DatabaseExtension implements BeforeEachCallback {
    public SetUserDatabaseExtension() {
        super(() -> Database.withSetUser().start(), "PostgreSQL 15 with set_user");
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        String missing = Database.setUserMissing();
        Assumptions.assumeTrue(missing == null, () -> "set_user test skipped: " + missing
                + "; install it with apt-get install postgresql-15-set-user (.ci/run does)");
    }
}
