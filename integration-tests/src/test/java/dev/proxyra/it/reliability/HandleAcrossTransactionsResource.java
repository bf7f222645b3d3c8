package dev.proxyra.it.reliability;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.RequestScoped;
import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jakarta.transaction.UserTransaction;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Test-only addition to demo.war: two legitimate ways of holding a connection handle across a
 * transaction boundary (JCA lets a handle outlive a transaction; the server re-associates it), to see
 * what the adapter's reclaiming of handles still open at transaction end does to them.
 */
@Path("test-reliability/handle-across-transactions")
@RequestScoped
public class HandleAcrossTransactionsResource {

    @Resource(lookup = "jdbc/erp")
    DataSource erp;

    @Resource
    UserTransaction tx;

    /** A handle taken before UserTransaction.begin(), used inside the transaction and after its commit. */
    @GET
    @Path("taken-before-begin")
    @Produces(MediaType.APPLICATION_JSON)
    public String takenBeforeBegin() throws Exception {
        JsonObjectBuilder o = Json.createObjectBuilder();
        try (Connection c = erp.getConnection()) {
            o.add("before", user(c));
            tx.begin();
            try {
                o.add("inTransaction", user(c));
            } finally {
                tx.commit();
            }
            o.add("afterCommit", user(c));
        }
        return o.build().toString();
    }

    /** The common idiom: begin, take a handle, commit, and close the handle in a finally block after the commit. */
    @GET
    @Path("closed-after-commit")
    @Produces(MediaType.APPLICATION_JSON)
    public String closedAfterCommit() throws Exception {
        JsonObjectBuilder o = Json.createObjectBuilder();
        tx.begin();
        Connection c = erp.getConnection();
        try {
            o.add("inTransaction", user(c));
            tx.commit();
            o.add("closedByAdapterAtCommit", c.isClosed());
        } finally {
            c.close();
        }
        return o.build().toString();
    }

    private static String user(Connection c) {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "error " + e.getSQLState() + ": " + e.getMessage();
        }
    }
}
