package dev.proxyra.bench.web;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.TreeSet;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * proxyra's borrow counters, read from its pool MBeans the way an operator's JMX client would: one line per pool,
 * {@code name warm switched newPhysical}. The load test reads them before and after each round to report how many
 * requests found a warm session of their own caller.
 */
@WebServlet("/pools")
public class PoolsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        StringBuilder out = new StringBuilder();
        try {
            for (ObjectName pool : new TreeSet<>(server.queryNames(new ObjectName("dev.proxyra:type=Pool,*"), null))) {
                out.append(pool.getKeyProperty("name")).append(' ')
                        .append(server.getAttribute(pool, "BorrowsWarm")).append(' ')
                        .append(server.getAttribute(pool, "BorrowsSwitched")).append(' ')
                        .append(server.getAttribute(pool, "BorrowsNewPhysical")).append('\n');
            }
        } catch (JMException e) {
            resp.sendError(500, e.toString());
            return;
        }
        resp.setContentType("text/plain");
        resp.getWriter().write(out.toString());
    }
}
