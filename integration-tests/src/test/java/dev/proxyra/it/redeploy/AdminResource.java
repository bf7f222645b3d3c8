package dev.proxyra.it.redeploy;

import fish.payara.micro.ClusterCommandResult;
import fish.payara.micro.PayaraInstance;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;

/**
 * The only application of the redeploy suite that stays deployed: runs asadmin commands inside Payara Micro
 * (which has no remote admin port) on behalf of the test, and says which process it is. It never touches
 * proxyra itself, so it keeps no reference to any copy of the adapter.
 */
@Path("asadmin")
@RequestScoped
public class AdminResource {

    @Inject
    PayaraInstance payara;

    /** Runs one asadmin command; the body holds its words, one per line. */
    @POST
    @Consumes(MediaType.TEXT_PLAIN)
    @Produces(MediaType.APPLICATION_JSON)
    public Response run(String words) {
        List<String> command = words.lines().filter(l -> !l.isBlank()).toList();
        ClusterCommandResult result = payara.executeLocalAsAdmin(command.get(0),
                command.subList(1, command.size()).toArray(new String[0]));
        boolean ok = result.getExitStatus() == ClusterCommandResult.ExitStatus.SUCCESS;
        return Response.status(ok ? 200 : 500).entity(Json.createObjectBuilder()
                .add("command", String.join(" ", command))
                .add("exitStatus", String.valueOf(result.getExitStatus()))
                .add("output", String.valueOf(result.getOutput()))
                .add("failure", String.valueOf(result.getFailureCause()))
                .build().toString()).build();
    }

    /** The names of proxyra's MBeans in the server, one per line. */
    @GET
    @Path("mbeans")
    @Produces(MediaType.TEXT_PLAIN)
    public String mbeans() throws javax.management.MalformedObjectNameException {
        StringBuilder names = new StringBuilder();
        for (javax.management.ObjectName name : java.lang.management.ManagementFactory.getPlatformMBeanServer()
                .queryNames(new javax.management.ObjectName("dev.proxyra:*"), null)) {
            names.append(name).append('\n');
        }
        return names.toString();
    }

    @GET
    @Path("pid")
    @Produces(MediaType.TEXT_PLAIN)
    public String pid() {
        return Long.toString(ProcessHandle.current().pid());
    }
}
