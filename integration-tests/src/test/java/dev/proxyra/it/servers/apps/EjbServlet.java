package dev.proxyra.it.servers.apps;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.Resource;
import jakarta.ejb.EJB;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * ejb.war's entry points, each signed in by the server (web.xml BASIC): {@code /ejb} calls an EJB, {@code /executor}
 * a task on the default ManagedExecutorService (the caller travels with the task's context), {@code /runas} an EJB
 * with {@code @RunAs}.
 */
@WebServlet({"/ejb", "/executor", "/runas"})
public class EjbServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @EJB
    WhoAmIBean bean;

    @EJB
    RunAsDelegator delegator;

    @Resource
    ManagedExecutorService executor;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String caller = request.getRemoteUser();
        String path = request.getServletPath();
        DatabaseIdentity.answer(response, caller, () -> switch (path) {
            case "/ejb" -> bean.whoami();
            case "/runas" -> delegator.whoami();
            default -> executor.submit(() -> DatabaseIdentity.query(DatabaseIdentity.dataSource(), caller))
                    .get(30, TimeUnit.SECONDS);
        });
    }
}
