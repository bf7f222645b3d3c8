package dev.proxyra.demo;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.resource.ConnectionFactoryDefinition;
import jakarta.resource.spi.TransactionSupport.TransactionSupportLevel;
import jakarta.security.enterprise.SecurityContext;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import javax.sql.DataSource;
import java.sql.SQLException;

/**
 * {@code GET /demo/annotated/whoami}: the same as {@code /demo/whoami}, through a connection factory the
 * application defines itself instead of one an administrator created with asadmin. It names only the
 * proxy account and a MicroProfile Config prefix: the URL and the password come from
 * {@code annotated.URL} and {@code annotated.Password}, e.g. the environment variables
 * {@code ANNOTATED_URL} and {@code ANNOTATED_PASSWORD}. The property keys are the JavaBean property names
 * ({@code configPrefix}, not {@code ConfigPrefix}): Open Liberty drops any other spelling without a word; every
 * server accepts these.
 */
@ConnectionFactoryDefinition(
        name = "java:app/jdbc/erp-annotated",
        description = "proxyra pool defined by the demo application",
        resourceAdapter = "proxyra",
        interfaceName = "javax.sql.DataSource",
        transactionSupport = TransactionSupportLevel.LocalTransaction,
        maxPoolSize = 8,
        properties = {"configPrefix=annotated", "user=app_proxy", "poolName=erp-annotated"})
@Path("annotated/whoami")
@RequestScoped
public class AnnotatedWhoAmIResource {

    @Resource(lookup = "java:app/jdbc/erp-annotated")
    DataSource erp;

    @Inject
    SecurityContext security;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String whoami() throws SQLException {
        return Json.pretty(Sql.whoami(erp, WhoAmIResource.callerName(security)));
    }
}
