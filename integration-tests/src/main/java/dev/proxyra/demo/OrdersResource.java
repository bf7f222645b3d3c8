package dev.proxyra.demo;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.RequestScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * {@code GET /demo/orders}: the caller's rows; {@code POST /demo/orders} (form field {@code item}): adds a
 * row, which the database stamps with owner = current_user. Plain JDBC, auto-commit.
 */
@Path("orders")
@RequestScoped
public class OrdersResource {

    @Resource(lookup = "java:comp/env/jdbc/erp")
    DataSource erp;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String list() throws SQLException {
        try (Connection c = erp.getConnection()) {
            return Json.pretty(jakarta.json.Json.createObjectBuilder().add("rows", Sql.rows(c)).build());
        }
    }

    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.APPLICATION_JSON)
    public String add(@FormParam("item") String item) throws SQLException {
        try (Connection c = erp.getConnection()) {
            return Json.pretty(Sql.insert(c, item));
        }
    }
}
