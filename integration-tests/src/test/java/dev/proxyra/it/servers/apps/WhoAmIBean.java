package dev.proxyra.it.servers.apps;

import java.sql.SQLException;

import jakarta.annotation.Resource;
import jakarta.annotation.security.PermitAll;
import jakarta.ejb.SessionContext;
import jakarta.ejb.Stateless;

import javax.sql.DataSource;

/** ejb.war: an EJB that takes a connection; the database must see the EJB's caller. */
@Stateless
@PermitAll
public class WhoAmIBean {

    @Resource(lookup = DatabaseIdentity.RESOURCE)
    DataSource erp;

    @Resource
    SessionContext context;

    public String whoami() throws SQLException {
        return DatabaseIdentity.query(erp, context.getCallerPrincipal().getName());
    }
}
