package dev.proxyra.spi;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

import jakarta.resource.spi.ManagedConnection;

import org.postgresql.ds.PGSimpleDataSource;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;

/**
 * Run in a JVM of its own by {@link SharedDriverTest}: a Java SE program with proxyra's jars on its class path, that
 * connects with DriverManager and pgjdbc's own data source, and starts the resource adapter itself as the connector
 * specification allows. Prints one line per check: {@code <step> DriverManager ok|<error>} and
 * {@code <step> PGSimpleDataSource ok|<error>}.
 */
public final class SharedDriverProbe {
    private SharedDriverProbe() {
    }

    /** {@code args[0]}: the JDBC URL of a database seeded as {@link Database} seeds one. */
    public static void main(String[] args) throws Exception {
        String url = args[0];
        connectAsTheApplication("before", url);
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ra.start(null);
        ProxyraManagedConnectionFactory mcf = Factories.onUrl(url).resourceAdapter(ra).build();
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        try (Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")))) {
            System.out.println("adapter serves " + Sessions.currentUser(c));
        }
        mc.cleanup();
        connectAsTheApplication("started", url);
        mc.destroy();
        ra.stop();
        connectAsTheApplication("stopped", url);
    }

    private static void connectAsTheApplication(String step, String url) {
        try (Connection c = DriverManager.getConnection(url, Database.PROXY_USER, Database.PROXY_PASSWORD)) {
            System.out.println(step + " DriverManager " + (c.isValid(5) ? "ok" : "not valid"));
        } catch (SQLException e) {
            System.out.println(step + " DriverManager " + e.getMessage());
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(url);
        ds.setUser(Database.PROXY_USER);
        ds.setPassword(Database.PROXY_PASSWORD);
        try (Connection c = ds.getConnection()) {
            System.out.println(step + " PGSimpleDataSource " + (c.isValid(5) ? "ok" : "not valid"));
        } catch (SQLException e) {
            System.out.println(step + " PGSimpleDataSource " + e.getMessage());
        }
    }
}
