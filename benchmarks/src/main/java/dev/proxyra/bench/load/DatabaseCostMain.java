package dev.proxyra.bench.load;

import java.util.List;
import java.util.Locale;

import dev.proxyra.testing.Database;

/**
 * The load test's database-cost probe alone ({@code -Pdbcost}), without the server: the database CPU per realistic
 * request for each way of serving it, on an embedded PostgreSQL with the load test's schema. Properties:
 * dbcost.identities (100), dbcost.requests (8000 per line).
 */
public final class DatabaseCostMain {
    private DatabaseCostMain() {
    }

    public static void main(String[] args) throws Exception {
        int identities = Integer.getInteger("dbcost.identities", 100);
        int requests = Integer.getInteger("dbcost.requests", 8000);
        if (!CpuMeter.available()) {
            throw new IllegalStateException("the probe reads backend CPU from /proc, which this system does not have");
        }
        try (Database db = Database.embedded().passwordLogins().start()) {
            db.execute(LoadMain.schema(identities));
            System.out.println("# dbcost: the database's CPU per realistic request on one connection, " + requests
                    + " requests per line, two passes");
            List<DatabaseCost.Line> lines = DatabaseCost.measure(db.url(), Database.PROXY_PASSWORD, requests / 4,
                    requests);
            double shared = lines.get(0).backendMillis();
            for (DatabaseCost.Line l : lines) {
                System.out.println(String.format(Locale.ROOT, "| %s | %.0f µs | %.2f |", l.what(),
                        l.backendMillis() * 1000, l.backendMillis() / shared));
            }
        }
    }
}
