package dev.proxyra.it.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.StringReader;
import java.util.Map;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.it.support.DemoClient;
import dev.proxyra.it.support.DemoDeployment;
import dev.proxyra.it.support.IntegrationSuite;

/**
 * The pool's MBean and the demo's readiness check inside Payara Micro: requests move the counters they should, the
 * readiness check reports the pool, and the server log has the pool's start line without the password.
 */
@ExtendWith(ArquillianExtension.class)
class MonitoringIT {
    private static final String POOL = "dev.proxyra:type=Pool,name=erp";

    @Deployment(testable = false)
    static WebArchive deployment() {
        return DemoDeployment.demoWar().addClass(PoolMBeanResource.class);
    }

    @ArquillianResource
    URL deploymentUrl;

    private final HttpClient http = HttpClient.newHttpClient();

    private JsonObject pool(DemoClient demo) throws Exception {
        JsonObject beans = demo.get("test-jmx", "alice").expect(200).json();
        assertThat(beans.keySet()).contains(POOL);
        return beans.getJsonObject(POOL);
    }

    private static long count(JsonObject pool, String attribute) {
        return pool.getJsonNumber(attribute).longValue();
    }

    @Test
    void requestsMoveTheCountersTheyShould() throws Exception {
        DemoClient demo = new DemoClient(deploymentUrl);
        JsonObject before = pool(demo);
        demo.get("whoami", "alice").expect(200);
        demo.get("whoami", "carol").expect(403);
        JsonObject after = pool(demo);

        long borrows = 0;
        for (String outcome : new String[] {"BorrowsWarm", "BorrowsSwitched", "BorrowsNewPhysical"}) {
            borrows += count(after, outcome) - count(before, outcome);
        }
        // alice's request, and the test-jmx reads themselves, which take no connection
        assertThat(borrows).isEqualTo(1);
        Map<String, Long> refusals = Map.of("RefusalsNoCaller", 0L, "RefusalsNotMapped", 0L, "RefusalsNotAuthorized", 1L,
                "RefusalsPoolExhausted", 0L, "RefusalsDatabaseUnreachable", 0L, "RefusalsConfiguration", 0L);
        refusals.forEach((name, delta) -> assertThat(count(after, name) - count(before, name)).as(name).isEqualTo(delta));
        assertThat(after.getString("PoolName")).isEqualTo("erp");
        assertThat(after.getString("Configuration")).contains("password=").doesNotContain(System.getenv("PROXYRA_PASSWORD"));
        assertThat(count(after, "BorrowedConnections")).isZero();
        assertThat(count(after, "DistinctIdentities")).isPositive();
    }

    @Test
    void theReadinessCheckReportsThePool() throws Exception {
        URI ready = URI.create("http://127.0.0.1:" + deploymentUrl.getPort() + "/health/ready");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonObject health = Json.createReader(new StringReader(r.body())).readObject();
        assertThat(health.getString("status")).isEqualTo("UP");
        JsonObject check = health.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(c -> c.getString("name").equals("proxyra pools")).findFirst().orElseThrow();
        assertThat(check.getString("status")).isEqualTo("UP");
        assertThat(check.getJsonObject("data").getString("erp")).startsWith("the database answered");
    }

    @Test
    void theServerLogSaysWhenThePoolStartedWithItsConfigurationAndNoPassword() throws Exception {
        new DemoClient(deploymentUrl).get("whoami", "bob").expect(200);
        String log = IntegrationSuite.payara().log();
        assertThat(log).contains("proxyra: pool erp started (JMX " + POOL + "): ProxyraConfig[url=")
                .doesNotContain(System.getenv("PROXYRA_PASSWORD"));
    }
}
