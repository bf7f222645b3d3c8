package dev.proxyra.demo;

import jakarta.enterprise.context.RequestScoped;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.UUID;

/**
 * JPA over proxyra: the persistence unit's {@code jta-data-source} is {@code jdbc/erp}, so every
 * EntityManager operation runs as the signed-in caller and row-level security applies to JPQL too.
 * {@code GET /demo/jpa/orders}, {@code GET /demo/jpa/orders/{id}}, {@code POST /demo/jpa/orders} (form
 * field {@code item}).
 */
@Path("jpa/orders")
@RequestScoped
public class JpaOrdersResource {

    @PersistenceContext(unitName = "erp")
    EntityManager em;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Transactional
    public String list() {
        JsonArrayBuilder rows = jakarta.json.Json.createArrayBuilder();
        for (CustomerOrder o : em.createQuery("select o from CustomerOrder o order by o.item", CustomerOrder.class)
                .getResultList()) {
            rows.add(json(o));
        }
        return Json.pretty(jakarta.json.Json.createObjectBuilder().add("rows", rows).build());
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Transactional
    public String find(@PathParam("id") UUID id) {
        CustomerOrder o = em.find(CustomerOrder.class, id);
        if (o == null) {
            throw new NotFoundException("no order " + id + " visible to this caller");
        }
        return Json.pretty(json(o));
    }

    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.APPLICATION_JSON)
    @Transactional
    public String add(@FormParam("item") String item) {
        CustomerOrder o = new CustomerOrder(item);
        em.persist(o);
        em.flush();
        return Json.pretty(jakarta.json.Json.createObjectBuilder().add("id", o.getId().toString()).add("item", item).build());
    }

    private static JsonObject json(CustomerOrder o) {
        return jakarta.json.Json.createObjectBuilder()
                .add("id", o.getId().toString())
                .add("owner", o.getOwner() == null ? "" : o.getOwner())
                .add("item", o.getItem())
                .build();
    }
}
