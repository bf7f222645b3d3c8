package dev.proxyra.bench;

import java.io.IOException;
import java.sql.SQLException;

import dev.proxyra.testing.Database;

/** The database a benchmark trial runs against: the shared one the runner started, or its own. */
final class BenchDatabase implements AutoCloseable {
    static final String URL_PROPERTY = "proxyra.bench.url";

    private final String url;
    private final Database own;

    private BenchDatabase(String url, Database own) {
        this.url = url;
        this.own = own;
    }

    static BenchDatabase fromSystemProperties() throws IOException, SQLException {
        String url = System.getProperty(URL_PROPERTY);
        if (url != null && !url.isBlank()) {
            return new BenchDatabase(url, null);
        }
        Database db = Database.embedded().passwordLogins().start();
        return new BenchDatabase(db.url(), db);
    }

    String url() {
        return url;
    }

    @Override
    public void close() throws IOException {
        if (own != null) {
            own.close();
        }
    }
}
