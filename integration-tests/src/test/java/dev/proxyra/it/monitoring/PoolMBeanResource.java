package dev.proxyra.it.monitoring;

import jakarta.enterprise.context.RequestScoped;
import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.lang.management.ManagementFactory;

import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Test-only addition to demo.war: every {@code dev.proxyra} MBean of the server with all its attributes, read from the
 * platform MBean server as JConsole or the Prometheus JMX exporter would read them.
 */
@Path("test-jmx")
@RequestScoped
public class PoolMBeanResource {

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String all() throws JMException {
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        JsonObjectBuilder beans = Json.createObjectBuilder();
        for (ObjectName name : jmx.queryNames(new ObjectName("dev.proxyra:*"), null)) {
            JsonObjectBuilder attributes = Json.createObjectBuilder();
            for (MBeanAttributeInfo a : jmx.getMBeanInfo(name).getAttributes()) {
                Object value = jmx.getAttribute(name, a.getName());
                if (value instanceof Number n) {
                    attributes.add(a.getName(), n.doubleValue());
                } else {
                    attributes.add(a.getName(), String.valueOf(value));
                }
            }
            beans.add(name.toString(), attributes);
        }
        return beans.build().toString();
    }
}
