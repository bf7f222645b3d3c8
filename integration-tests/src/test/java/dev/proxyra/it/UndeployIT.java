package dev.proxyra.it;

import dev.proxyra.it.admin.RarAdminResource;
import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoClient.Reply;
import dev.proxyra.it.support.DemoDeployment;
import dev.proxyra.it.support.IntegrationSuite;
import dev.proxyra.it.support.ItDatabase;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URL;
import java.sql.SQLException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Undeploying proxyra.rar stops the adapter, which closes its pools: no app_proxy session is left. */
@ExtendWith(ArquillianExtension.class)
class UndeployIT {

    @Deployment(testable = false)
    static WebArchive deployment() {
        return DemoDeployment.demoWar().addClass(RarAdminResource.class);
    }

    @ArquillianResource
    URL deploymentUrl;

    @Test
    void undeployingTheRarLeavesNoProxySessionInPgStatActivity() throws Exception {
        DemoClient demo = new DemoClient(deploymentUrl);
        ItDatabase db = IntegrationSuite.database();
        demo.get("whoami", "alice").expect(200);
        demo.get("whoami", "bob").expect(200);
        demo.get("annotated/whoami", "alice").expect(200);
        demo.get("jpa/orders", "bob").expect(200);
        assertThat(db.proxySessions()).as("app_proxy sessions while the rar is deployed").isPositive();

        Reply undeploy = demo.post("test-admin/undeploy-rar", "alice", "unused", "");
        assertThat(undeploy.status()).as(undeploy.body()).isEqualTo(200);

        // the adapter closed its sockets synchronously; the backends notice and exit right after
        awaitNoProxySessions(db, Duration.ofSeconds(30));
        assertThat(IntegrationSuite.payara().log()).contains("proxyra: resource adapter stopped");
    }

    /**
     * A bounded poll of pg_stat_activity: a backend leaves it when it has processed the closed socket,
     * asynchronously to the client, and there is no event to wait on. Between polls the database itself
     * waits (pg_sleep); the outcome is asserted, not assumed.
     */
    private static void awaitNoProxySessions(ItDatabase db, Duration timeout) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int sessions;
        while ((sessions = db.proxySessions()) > 0 && System.nanoTime() < deadline) {
            db.queryInt("select 1 from pg_sleep(0.1)");
        }
        assertThat(sessions).as("app_proxy sessions in pg_stat_activity after undeploy").isZero();
    }
}
