package dev.proxyra.it.servers.apps;

import java.sql.SQLException;

import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RunAs;
import jakarta.ejb.EJB;
import jakarta.ejb.Stateless;

/**
 * ejb.war: {@code @RunAs("auditor")}: what this bean calls runs as the role's run-as principal (bob, mapped per server),
 * so the connection {@link WhoAmIBean} takes runs as bob whoever signed in.
 */
@Stateless
@PermitAll
@RunAs("auditor")
public class RunAsDelegator {

    @EJB
    WhoAmIBean target;

    public String whoami() throws SQLException {
        return target.whoami();
    }
}
