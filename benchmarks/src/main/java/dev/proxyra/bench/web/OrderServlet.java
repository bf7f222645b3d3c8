package dev.proxyra.bench.web;

import java.sql.Connection;
import java.sql.SQLException;

import jakarta.servlet.annotation.WebServlet;

/** The load test's realistic request ({@link Orders}) over HTTP. */
@WebServlet("/order/*")
public class OrderServlet extends WorkloadServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected String serve(Connection c, String sharedAccountCaller) throws SQLException {
        return Orders.order(c, sharedAccountCaller);
    }
}
