package dev.proxyra.it.support;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The integration run's database: started (and the Payara command files written) when the JUnit
 * launcher session opens, before Arquillian boots any Payara Micro; stopped when it closes, after every
 * Payara Micro process has exited. Registered in META-INF/services; inactive outside failsafe (no
 * {@code it.pg.port}).
 */
public class IntegrationSuite implements LauncherSessionListener {
    private static volatile ItDatabase database;
    private static volatile PayaraSetup payara;

    /** The running suite database. */
    public static ItDatabase database() {
        if (database == null) {
            throw new IllegalStateException("the integration suite database is not running (run through failsafe)");
        }
        return database;
    }

    public static PayaraSetup payara() {
        if (payara == null) {
            throw new IllegalStateException("the integration suite is not set up (run through failsafe)");
        }
        return payara;
    }

    static boolean active() {
        return payara != null;
    }

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        String port = System.getProperty("it.pg.port");
        if (port == null || database != null) {
            return;
        }
        Path work = Path.of(System.getProperty("it.work"));
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
            database = ItDatabase.start(work.resolve("db"), Integer.parseInt(port), System.getenv("PROXYRA_PASSWORD"),
                    Path.of(System.getProperty("proxyra.sql.dir")), false, true);
            PayaraSetup setup = new PayaraSetup(work.resolve("payara"));
            setup.prepare(Path.of(System.getProperty("proxyra.rar")), database.url());
            // read by arquillian.xml as ${it.payara.options}
            System.setProperty("it.payara.options", String.join(" ", setup.microOptions()));
            payara = setup;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException("seeding the suite database failed", e);
        }
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        try {
            PayaraProcesses.awaitExit(Duration.ofSeconds(60));
        } finally {
            ItDatabase db = database;
            database = null;
            if (db != null) {
                try {
                    db.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
