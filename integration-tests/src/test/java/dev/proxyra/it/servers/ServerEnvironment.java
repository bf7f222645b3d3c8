package dev.proxyra.it.servers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import dev.proxyra.it.support.IntegrationSuite;

/** What every server of the suites is given: the archives, the database, the password, a work directory. */
public record ServerEnvironment(Path rar, Path demoWar, Path plainWar, Path ejbWar, Path xaWar, String jdbcUrl,
                                String proxyPassword, Path work, Path distributions, int xaPort) {

    /** For the server called {@code name}, in the failsafe run (the suite database, the built archives). */
    public static ServerEnvironment forServer(String name) throws Exception {
        Path work = Path.of(System.getProperty("it.work")).resolve(name).toAbsolutePath();
        Files.createDirectories(work);
        Path wars = work.resolve("wars");
        String password = System.getenv("PROXYRA_PASSWORD");
        if (password == null || password.isBlank()) {
            throw new IllegalStateException("PROXYRA_PASSWORD is not set (run through failsafe)");
        }
        return new ServerEnvironment(Path.of(System.getProperty("proxyra.rar")).toAbsolutePath(),
                Path.of(System.getProperty("proxyra.war")).toAbsolutePath(), TestWars.plainWar(wars),
                TestWars.ejbWar(wars), TestWars.xaWar(wars), IntegrationSuite.database().url(), password, work,
                Path.of(System.getProperty("it.servers")).toAbsolutePath(), IntegrationSuite.database().port());
    }

    /** The same, with the XA pools reaching the database through {@code port} (a WireFailpoint). */
    public ServerEnvironment withXaPort(int port) {
        return new ServerEnvironment(rar, demoWar, plainWar, ejbWar, xaWar, jdbcUrl, proxyPassword, work, distributions,
                port);
    }

    /** The port of the suite's database itself (jdbcUrl's). */
    public int databasePort() {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(":(\\d+)/").matcher(jdbcUrl);
        if (!m.find()) {
            throw new IllegalStateException("no port in " + jdbcUrl);
        }
        return Integer.parseInt(m.group(1));
    }

    /** The JDBC URL of the XA database {@code name} (ItDatabase.XA_DATABASES), on {@link #xaPort()}. */
    public String xaUrl(String name) {
        return jdbcUrl.replaceFirst(":\\d+/postgres$", ":" + xaPort + "/" + name);
    }

    /**
     * The environment the server process gets: the proxy password for proxyra's pool (PROXYRA_PASSWORD) and URL and
     * password of the demo's {@code @ConnectionFactoryDefinition} (ConfigPrefix annotated).
     */
    public Map<String, String> processEnvironment() {
        return Map.of("PROXYRA_PASSWORD", proxyPassword, "ANNOTATED_URL", jdbcUrl, "ANNOTATED_PASSWORD", proxyPassword,
                "JAVA_HOME", System.getProperty("java.home"));
    }
}
