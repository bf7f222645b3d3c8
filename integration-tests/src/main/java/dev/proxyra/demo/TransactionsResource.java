package dev.proxyra.demo;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.transaction.UserTransaction;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import javax.sql.DataSource;
import java.sql.Connection;

/**
 * JTA with proxyra: the server enlists the adapter's LocalTransaction, so commit and rollback act on
 * the caller's database session.
 * <ul>
 * <li>{@code POST /demo/tx/commit} and {@code /demo/tx/rollback} (form field {@code item}): a
 * {@code UserTransaction} around an insert;</li>
 * <li>{@code POST /demo/tx/transactional-failure}: a {@code @Transactional} bean that inserts and throws;</li>
 * <li>{@code GET /demo/tx/session}: several {@code getConnection()} calls in one transaction, one after
 * the other and nested, with the database backend pid each one saw.</li>
 * </ul>
 */
@Path("tx")
@RequestScoped
public class TransactionsResource {

    @Resource(lookup = "java:comp/env/jdbc/erp")
    DataSource erp;

    @Resource
    UserTransaction tx;

    @Inject
    OrderService orders;

    @POST
    @Path("commit")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.APPLICATION_JSON)
    public String commit(@FormParam("item") String item) throws Exception {
        tx.begin();
        JsonObject row;
        try (Connection c = erp.getConnection()) {
            row = Sql.insert(c, item);
        } catch (Exception e) {
            tx.rollback();
            throw e;
        }
        tx.commit();
        return Json.pretty(jakarta.json.Json.createObjectBuilder().add("committed", row).build());
    }

    @POST
    @Path("rollback")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.APPLICATION_JSON)
    public String rollback(@FormParam("item") String item) throws Exception {
        tx.begin();
        JsonObject row;
        try (Connection c = erp.getConnection()) {
            row = Sql.insert(c, item);
        } finally {
            tx.rollback();
        }
        return Json.pretty(jakarta.json.Json.createObjectBuilder().add("rolledBack", row).build());
    }

    @POST
    @Path("transactional-failure")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.APPLICATION_JSON)
    public Response transactionalFailure(@FormParam("item") String item) throws Exception {
        try {
            orders.insertThenFail(item);
            return Response.serverError().entity("{\"error\":\"the bean did not fail\"}\n").build();
        } catch (IllegalStateException expected) {
            return Response.status(Response.Status.CONFLICT)
                    .entity(Json.pretty(jakarta.json.Json.createObjectBuilder()
                            .add("rolledBack", item)
                            .add("reason", expected.getMessage())
                            .build()))
                    .build();
        }
    }

    @GET
    @Path("session")
    @Produces(MediaType.APPLICATION_JSON)
    public String session() throws Exception {
        tx.begin();
        try {
            int first;
            int second;
            int outer;
            int inner;
            String user;
            try (Connection c = erp.getConnection()) {
                first = Sql.backendPid(c);
            }
            try (Connection c = erp.getConnection()) {
                second = Sql.backendPid(c);
            }
            try (Connection a = erp.getConnection()) {
                outer = Sql.backendPid(a);
                try (Connection b = erp.getConnection()) {
                    inner = Sql.backendPid(b);
                    try (var s = b.createStatement(); var rs = s.executeQuery("select current_user")) {
                        rs.next();
                        user = rs.getString(1);
                    }
                }
            }
            tx.commit();
            return Json.pretty(jakarta.json.Json.createObjectBuilder()
                    .add("databaseUser", user)
                    .add("first", first)
                    .add("second", second)
                    .add("nestedOuter", outer)
                    .add("nestedInner", inner)
                    .build());
        } catch (Exception e) {
            if (tx.getStatus() != jakarta.transaction.Status.STATUS_NO_TRANSACTION) {
                tx.rollback();
            }
            throw e;
        }
    }
}
