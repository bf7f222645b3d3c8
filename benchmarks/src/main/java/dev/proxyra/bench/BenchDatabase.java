package dev.proxyra.bench;

import java.io.IOException;
import java.sql.SQLException;

import dev.proxyra.testing.EmbeddedDatabase;

/** The database a benchmark trial runs against: the shared one the runner started, or its own. */
final class BenchDatabase implements AutoCloseable {
    static final String URL_PROPERTY = "proxyra.bench.url";

    private final String url;
    private final EmbeddedDatabase own;

    private BenchDatabase(String url, EmbeddedDatabase own) {
        this.url = url;
        this.own = own;
    }

    static BenchDatabase fromSystemProperties() throws IOException, SQLException {
        String url = System.getProperty(URL_PROPERTY);
        if (url != null && !url.isBlank()) {
            return new BenchDatabase(url, null);
        }
        EmbeddedDatabase db = EmbeddedDatabase.startWithPasswordLogins();
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
