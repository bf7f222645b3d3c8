package dev.proxyra.demo;

import jakarta.inject.Inject;
import jakarta.security.enterprise.SecurityContext;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

import java.sql.SQLException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns a failed database request into JSON: 403 when the database identity was refused (SQLState
 * class 28, e.g. proxyra's "no caller" or "role does not exist"), 500 otherwise. The reason is logged
 * with the caller's name so the server log says who was refused and why.
 */
@Provider
public class DatabaseErrors implements ExceptionMapper<Exception> {
    private static final Logger LOG = Logger.getLogger(DatabaseErrors.class.getName());

    @Inject
    SecurityContext security;

    @Context
    UriInfo uri;

    @Override
    public Response toResponse(Exception e) {
        if (e instanceof WebApplicationException w) {
            return w.getResponse();
        }
        SQLException sql = null;
        for (Throwable t = e; t != null && sql == null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                sql = s;
            }
        }
        String caller = WhoAmIResource.callerName(security);
        String path = uri == null ? "?" : uri.getPath();
        var body = jakarta.json.Json.createObjectBuilder();
        Response.Status status;
        if (sql != null) {
            String state = sql.getSQLState() == null ? "" : sql.getSQLState();
            status = state.startsWith("28") ? Response.Status.FORBIDDEN : Response.Status.INTERNAL_SERVER_ERROR;
            body.add("error", status == Response.Status.FORBIDDEN ? "database access refused" : "database error")
                    .add("sqlState", state)
                    .add("message", String.valueOf(sql.getMessage()));
            LOG.log(Level.WARNING, "demo: /{0} for caller {1} failed with SQLState {2}: {3}",
                    new Object[] {path, caller == null ? "(anonymous)" : caller, state, sql.getMessage()});
        } else {
            status = Response.Status.INTERNAL_SERVER_ERROR;
            body.add("error", e.getClass().getName()).add("message", String.valueOf(e.getMessage()));
            LOG.log(Level.WARNING, "demo: /" + path + " for caller " + caller + " failed", e);
        }
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Json.pretty(body.build())).build();
    }
}
