package dev.proxyra.bench.web;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.servlet.annotation.WebServlet;

/**
 * The load test's worst case: {@code select current_user}, nothing else, so that what the resource costs is all
 * there is to measure.
 */
@WebServlet("/who/*")
public class WhoServlet extends WorkloadServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected String serve(Connection c, String sharedAccountCaller) throws SQLException {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
