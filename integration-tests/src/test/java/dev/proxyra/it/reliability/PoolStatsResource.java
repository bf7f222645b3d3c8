package dev.proxyra.it.reliability;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.RequestScoped;
import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import javax.sql.DataSource;

/**
 * Test-only addition to demo.war (never in the demo itself): the statistics of the physical pool behind
 * {@code jdbc/erp}, read inside Payara Micro. The adapter's classes belong to the rar, not to this war,
 * so they are reached by reflection on their public API: ProxyraDataSource.factory().pool().
 */
@Path("test-reliability/pool")
@RequestScoped
public class PoolStatsResource {

    @Resource(lookup = "jdbc/erp")
    DataSource erp;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String stats() throws ReflectiveOperationException {
        Object factory = erp.getClass().getMethod("factory").invoke(erp);
        Object pool = factory.getClass().getMethod("pool").invoke(factory);
        JsonObjectBuilder o = Json.createObjectBuilder();
        for (String statistic : new String[] {"lentOut", "totalCount", "borrowedCount", "identitySwitches",
            "discardedCount"}) {
            o.add(statistic, ((Number) pool.getClass().getMethod(statistic).invoke(pool)).longValue());
        }
        return o.build().toString();
    }
}
