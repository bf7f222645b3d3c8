package dev.proxyra.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests one embedded PostgreSQL per test run: started on first use, stopped when the run ends
 * (JUnit closes root-store resources), so a run leaves no server behind.
 */
public final class PostgresExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EmbeddedDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return RunScoped.get(context, EmbeddedDatabase.class, EmbeddedDatabase::start, "embedded PostgreSQL");
    }
}
