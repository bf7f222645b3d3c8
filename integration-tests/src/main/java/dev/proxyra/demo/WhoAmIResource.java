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
import java.security.Principal;
import java.sql.SQLException;

/**
 * {@code GET /demo/whoami}: the signed-in caller, the database user its connection runs as, the proxy
 * account the session logged in with, and the rows row-level security lets it see.
 */
@Path("whoami")
@RequestScoped
public class WhoAmIResource {

    @Resource(lookup = "java:comp/env/jdbc/erp")
    DataSource erp;

    @Inject
    SecurityContext security;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String whoami() throws SQLException {
        return Json.pretty(Sql.whoami(erp, callerName(security)));
    }

    static String callerName(SecurityContext security) {
        Principal p = security.getCallerPrincipal();
        return p == null ? null : p.getName();
    }
}
