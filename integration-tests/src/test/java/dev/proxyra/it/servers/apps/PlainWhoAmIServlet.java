package dev.proxyra.it.servers.apps;

import java.io.IOException;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * plain.war: a servlet in an application that is no CDI archive and does not use Jakarta Security. The server signs
 * the caller in (web.xml BASIC, the server's own user registry); proxyra has to find the caller through the server.
 * {@code /whoami} needs a signed-in user, {@code /public/whoami} does not.
 */
@WebServlet({"/whoami", "/public/whoami"})
public class PlainWhoAmIServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String caller = request.getRemoteUser();
        DatabaseIdentity.answer(response, caller, () -> DatabaseIdentity.query(DatabaseIdentity.dataSource(), caller));
    }
}
