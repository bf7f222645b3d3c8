package dev.proxyra.demo;

import org.eclipse.persistence.config.SessionCustomizer;
import org.eclipse.persistence.sessions.DatabaseLogin;
import org.eclipse.persistence.sessions.Session;

/**
 * EclipseLink (Payara, Open Liberty): a refusal is an answer, not a lost connection. EclipseLink otherwise takes any
 * SQLException of a read outside a transaction for a possible communication failure, pings the connection (which
 * proxyra refuses too, on a connection without a caller) and retries the query up to three times, five seconds apart:
 * an anonymous request would wait 10-15 s for its 28000. Named by {@code eclipselink.session.customizer} in
 * persistence.xml; Hibernate ignores it.
 */
public class RefusalsAreAnswers implements SessionCustomizer {

    @Override
    public void customize(Session session) {
        if (session.getDatasourceLogin() instanceof DatabaseLogin login) {
            login.setConnectionHealthValidatedOnError(false);
            login.setQueryRetryAttemptCount(0);
        }
    }
}
