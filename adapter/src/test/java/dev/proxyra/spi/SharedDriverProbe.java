package dev.proxyra.spi;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

import jakarta.resource.spi.ManagedConnection;

import org.postgresql.ds.PGSimpleDataSource;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.testing.Adapters;
import dev.proxyra.testing.EmbeddedDatabase;

/**
 * Run in a JVM of its own by {@link SharedDriverTest}: a Java SE program with proxyra's jars on its class path, that
 * connects with DriverManager and pgjdbc's own data source, and starts the resource adapter itself as the connector
 * specification allows. Prints one line per check: {@code <step> DriverManager ok|<error>} and
 * {@code <step> PGSimpleDataSource ok|<error>}.
 */
public final class SharedDriverProbe {
    private SharedDriverProbe() {
    }

    /** {@code args[0]}: the JDBC URL of a database seeded as {@link EmbeddedDatabase} seeds one. */
    public static void main(String[] args) throws Exception {
        String url = args[0];
        connectAsTheApplication("before", url);
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ra.start(null);
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(dev.proxyra.config.ExternalConfig.NONE);
        mcf.setURL(url);
        mcf.setUser(EmbeddedDatabase.PROXY_USER);
        mcf.setPassword(EmbeddedDatabase.PROXY_PASSWORD);
        mcf.setCallerSource(dev.proxyra.testing.TestCallers.class.getName());
        mcf.setResourceAdapter(ra);
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        try (Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")))) {
            System.out.println("adapter serves " + Adapters.currentUser(c));
        }
        mc.cleanup();
        connectAsTheApplication("started", url);
        mc.destroy();
        ra.stop();
        connectAsTheApplication("stopped", url);
    }

    private static void connectAsTheApplication(String step, String url) {
        try (Connection c = DriverManager.getConnection(url, EmbeddedDatabase.PROXY_USER, EmbeddedDatabase.PROXY_PASSWORD)) {
            System.out.println(step + " DriverManager " + (c.isValid(5) ? "ok" : "not valid"));
        } catch (SQLException e) {
            System.out.println(step + " DriverManager " + e.getMessage());
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(url);
        ds.setUser(EmbeddedDatabase.PROXY_USER);
        ds.setPassword(EmbeddedDatabase.PROXY_PASSWORD);
        try (Connection c = ds.getConnection()) {
            System.out.println(step + " PGSimpleDataSource " + (c.isValid(5) ? "ok" : "not valid"));
        } catch (SQLException e) {
            System.out.println(step + " PGSimpleDataSource " + e.getMessage());
        }
    }
}
