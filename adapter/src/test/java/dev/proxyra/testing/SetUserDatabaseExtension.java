package dev.proxyra.testing;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests one {@link SetUserDatabase} per test run, stopped when the run ends; skips each test, saying
 * what is missing, where Debian's PostgreSQL 15 or its set_user extension is not installed.
 */
public final class SetUserDatabaseExtension implements BeforeEachCallback, ParameterResolver {

    @Override
    public void beforeEach(ExtensionContext context) {
        String missing = SetUserDatabase.missing();
        Assumptions.assumeTrue(missing == null, () -> "set_user test skipped: " + missing
                + "; install it with apt-get install postgresql-15-set-user (.ci/run does)");
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == SetUserDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return RunScoped.get(context, SetUserDatabase.class, SetUserDatabase::start, "PostgreSQL 15 with set_user");
    }
}
