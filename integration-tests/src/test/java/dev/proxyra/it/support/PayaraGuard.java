package dev.proxyra.it.support;

import org.jboss.arquillian.container.spi.event.container.AfterDeploy;
import org.jboss.arquillian.container.spi.event.container.AfterUnDeploy;
import org.jboss.arquillian.container.spi.event.container.BeforeDeploy;
import org.jboss.arquillian.core.api.annotation.Observes;
import org.jboss.arquillian.core.spi.LoadableExtension;

import java.io.IOException;
import java.time.Duration;

/**
 * Arquillian hooks around each Payara Micro boot (the payara-micro-managed container boots one server
 * per deployment): a fresh root directory and log before, a check that every post-boot asadmin
 * command succeeded after (else the deployment, and so the test class, fails), and a wait for the
 * process to exit after undeploy.
 */
public class PayaraGuard implements LoadableExtension {

    @Override
    public void register(ExtensionBuilder builder) {
        builder.observer(Hooks.class);
    }

    public static class Hooks {
        public void beforeDeploy(@Observes BeforeDeploy event) throws IOException {
            PayaraProcesses.awaitExit(Duration.ofSeconds(60));
            IntegrationSuite.payara().reset();
        }

        public void afterDeploy(@Observes AfterDeploy event) throws IOException {
            PayaraSetup payara = IntegrationSuite.payara();
            payara.assertBootSucceeded();
            String archive = event.getDeployment().getArchive().getName();
            payara.assertDeployed(archive.substring(0, archive.lastIndexOf('.')));
        }

        public void afterUndeploy(@Observes AfterUnDeploy event) {
            PayaraProcesses.awaitExit(Duration.ofSeconds(60));
        }
    }
}
