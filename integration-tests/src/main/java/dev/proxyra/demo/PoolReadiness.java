package dev.proxyra.demo;

import jakarta.enterprise.context.ApplicationScoped;

import java.lang.management.ManagementFactory;
import java.util.Set;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * The demo is ready when every proxyra pool can hand out a physical connection and its database answers: each pool's
 * MBean, {@code dev.proxyra:type=Pool,name=...}, checks that itself ({@code checkHealth}), with no caller and nothing
 * run as the proxy account. Served at {@code /health/ready}.
 */
@Readiness
@ApplicationScoped
public class PoolReadiness implements HealthCheck {

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("proxyra pools").up();
        try {
            MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
            Set<ObjectName> pools = jmx.queryNames(new ObjectName("dev.proxyra:type=Pool,*"), null);
            if (pools.isEmpty()) {
                return response.down().withData("pools", "none open").build();
            }
            for (ObjectName pool : pools) {
                CompositeData health = (CompositeData) jmx.invoke(pool, "checkHealth", null, null);
                response.withData(pool.getKeyProperty("name"), health.get("detail").toString());
                if (!(Boolean) health.get("up")) {
                    response.down();
                }
            }
        } catch (JMException e) {
            response.down().withData("error", e.toString());
        }
        return response.build();
    }
}
