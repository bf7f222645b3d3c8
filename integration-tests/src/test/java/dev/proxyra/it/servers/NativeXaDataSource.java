package dev.proxyra.it.servers;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

import dev.proxyra.it.support.ItDatabase;

/**
 * The server's own XA data source beside proxyra's XA pools: pgjdbc's {@code org.postgresql.xa.PGXADataSource} on the
 * ledger database, JNDI name {@code jdbc/ledgerNative}, configured as each server's users configure a JDBC XA data
 * source (the driver jar given to the server, then a pool). It logs in as a plain role of its own
 * (ItDatabase.NATIVE_USER): it stands for any other resource of the transaction, not for a caller.
 */
final class NativeXaDataSource {
    static final String USER = ItDatabase.NATIVE_USER;
    private static final String PASSWORD = ItDatabase.NATIVE_PASSWORD;
    static final String DATABASE = "ledger";
    static final String JNDI_NAME = "jdbc/ledgerNative";
    private static final String XA_CLASS = "org.postgresql.xa.PGXADataSource";

    private NativeXaDataSource() {
    }

    /** pgjdbc's jar, from this JVM's class path (the suite's own test dependency). */
    static Path driverJar() {
        URL url = NativeXaDataSource.class.getClassLoader().getResource("org/postgresql/xa/PGXADataSource.class");
        if (url == null || !"jar".equals(url.getProtocol())) {
            throw new IllegalStateException("org.postgresql:postgresql is not on the class path as a jar: " + url);
        }
        String path = url.getPath();
        try {
            return Path.of(new URL(path.substring(0, path.indexOf("!/"))).toURI());
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot locate pgjdbc's jar from " + url, e);
        }
    }

    /** asadmin (Payara Server, Payara Micro's post-boot file): a JDBC connection pool of the XA class and its resource. */
    static List<String> payaraCommands(int databasePort) {
        return List.of("create-jdbc-connection-pool --datasourceclassname " + XA_CLASS
                        + " --restype javax.sql.XADataSource --steadypoolsize 0 --property serverName=127.0.0.1:portNumber="
                        + databasePort + ":databaseName=" + DATABASE + ":user=" + USER + ":password=" + PASSWORD
                        + " ledger-native-pool",
                "create-jdbc-resource --connectionpoolid ledger-native-pool " + JNDI_NAME);
    }

    /** jboss-cli: the driver deployed, then an xa-data-source on it. */
    static String wildflyCli(Path driver, int databasePort) {
        String ds = "/subsystem=datasources/xa-data-source=ledgerNative";
        return "deploy " + driver + " --name=postgresql.jar\nbatch\n"
                + ds + ":add(jndi-name=java:/" + JNDI_NAME + ", driver-name=postgresql.jar, user-name=" + USER
                + ", password=" + PASSWORD + ", xa-datasource-class=" + XA_CLASS + ")\n"
                + ds + "/xa-datasource-properties=ServerName:add(value=127.0.0.1)\n"
                + ds + "/xa-datasource-properties=PortNumber:add(value=" + databasePort + ")\n"
                + ds + "/xa-datasource-properties=DatabaseName:add(value=" + DATABASE + ")\n"
                + "run-batch\n";
    }

    /** server.xml: the jdbc feature, the driver as a library, an XA data source on it. */
    static String libertyXml(Path driver, int databasePort) {
        return """
                <featureManager>
                  <feature>jdbc-4.3</feature>
                </featureManager>
                <library id="postgresql">
                  <file name="%s"/>
                </library>
                <dataSource id="ledgerNative" jndiName="%s" type="javax.sql.XADataSource">
                  <jdbcDriver libraryRef="postgresql"/>
                  <properties.postgresql serverName="127.0.0.1" portNumber="%d" databaseName="%s" user="%s" password="%s"/>
                </dataSource>
                """.formatted(driver, JNDI_NAME, databasePort, DATABASE, USER, PASSWORD);
    }
}
