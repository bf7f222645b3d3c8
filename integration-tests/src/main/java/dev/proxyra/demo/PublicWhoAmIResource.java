package dev.proxyra.demo;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.security.enterprise.SecurityContext;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import javax.sql.DataSource;
import java.sql.SQLException;

/**
 * {@code GET /demo/public/whoami}: the same query on a page that needs no sign-in. An anonymous caller
 * has no database identity, so proxyra refuses the connection (SQLState 28000) instead of falling back
 * to the proxy account.
 */
@Path("public/whoami")
@RequestScoped
public class PublicWhoAmIResource {

    @Resource(lookup = "java:comp/env/jdbc/erp")
    DataSource erp;

    @Inject
    SecurityContext security;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String whoami() throws SQLException {
        return Json.pretty(Sql.whoami(erp, WhoAmIResource.callerName(security)));
    }
}
