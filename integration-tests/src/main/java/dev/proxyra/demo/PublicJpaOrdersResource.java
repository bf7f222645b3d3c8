package dev.proxyra.demo;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /demo/public/jpa/orders}: the JPA query of {@link JpaOrdersResource} on a page that needs no sign-in.
 * The persistence unit's pool allows connections without a caller for metadata only
 * ({@code UnauthenticatedAccess=METADATA_ONLY}, so the provider can deploy), and proxyra refuses the query (28000).
 */
@Path("public/jpa/orders")
@RequestScoped
public class PublicJpaOrdersResource {

    @Inject
    JpaOrdersResource orders;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String list() {
        return orders.list();
    }
}
