package dev.proxyra.demo;

import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.json.JsonObject;
import jakarta.transaction.Transactional;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** Container-managed transactions ({@code @Transactional}) around proxyra connections. */
@ApplicationScoped
public class OrderService {

    @Resource(lookup = "java:comp/env/jdbc/erp")
    DataSource erp;

    /** Inserts a row, then fails: the interceptor rolls the transaction back, so the row never lands. */
    @Transactional
    public JsonObject insertThenFail(String item) throws SQLException {
        try (Connection c = erp.getConnection()) {
            Sql.insert(c, item);
        }
        throw new IllegalStateException("demo: failing after inserting '" + item + "' so that the transaction rolls back");
    }
}
