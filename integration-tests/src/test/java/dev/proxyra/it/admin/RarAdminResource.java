package dev.proxyra.it.admin;

import fish.payara.micro.ClusterCommandResult;
import fish.payara.micro.PayaraInstance;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Test-only addition to demo.war (never in the demo itself): runs {@code asadmin undeploy --cascade=true
 * proxyra} inside Payara Micro, which has no remote admin port.
 */
@Path("test-admin")
@RequestScoped
public class RarAdminResource {

    @Inject
    PayaraInstance payara;

    @POST
    @Path("undeploy-rar")
    @Produces(MediaType.APPLICATION_JSON)
    public Response undeployRar() {
        ClusterCommandResult result = payara.executeLocalAsAdmin("undeploy", "--cascade=true", "proxyra");
        JsonObject body = Json.createObjectBuilder()
                .add("exitStatus", String.valueOf(result.getExitStatus()))
                .add("output", String.valueOf(result.getOutput()))
                .add("failure", String.valueOf(result.getFailureCause()))
                .build();
        return Response.status(result.getExitStatus() == ClusterCommandResult.ExitStatus.SUCCESS ? 200 : 500)
                .entity(body.toString()).build();
    }
}
