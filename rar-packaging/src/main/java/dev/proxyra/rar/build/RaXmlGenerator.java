package dev.proxyra.rar.build;

import dev.proxyra.config.Setting;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@code META-INF/ra.xml} from {@link Setting}, the single table of user-facing properties,
 * so the deployment descriptor cannot drift from the adapter. Runs at build time only (it is not
 * shipped in the rar). {@code RarArchiveIT} then checks the packaged descriptor against
 * {@link Setting} and against the JavaBean properties of the managed connection factory.
 *
 * <p>Usage: {@code RaXmlGenerator <output ra.xml> <resourceadapter-version>}
 */
public final class RaXmlGenerator {

    public static final String RESOURCE_ADAPTER_CLASS = "dev.proxyra.spi.ProxyraResourceAdapter";
    public static final String MCF_CLASS = "dev.proxyra.spi.ProxyraManagedConnectionFactory";
    public static final String CONNECTION_FACTORY_INTERFACE = "javax.sql.DataSource";
    public static final String CONNECTION_FACTORY_IMPL = "dev.proxyra.jdbc.ProxyraDataSource";
    public static final String CONNECTION_INTERFACE = "java.sql.Connection";
    public static final String CONNECTION_IMPL = "dev.proxyra.jdbc.ConnectionHandle";

    static final String DESCRIPTION = "A javax.sql.DataSource whose connections run as the calling user:"
            + " each caller gets an Oracle proxy session (ALTER USER ... GRANT CONNECT THROUGH proxy_user) or a"
            + " PostgreSQL SET ROLE on physical connections that log in once as a proxy account, pooled by"
            + " Oracle UCP. Transaction enlistment stays with the application server.";

    static final String LICENSE = "proxyra bundles the Oracle JDBC driver (ojdbc11) and the Oracle Universal"
            + " Connection Pool (ucp11), unmodified, under the Oracle Free Use Terms and Conditions"
            + " (META-INF/licenses/oracle-free-use-terms.txt), and the PostgreSQL JDBC driver under the BSD"
            + " 2-Clause License (META-INF/licenses/postgresql-jdbc-license.txt). No license key is required.";

    private RaXmlGenerator() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: RaXmlGenerator <output ra.xml> <resourceadapter-version>");
        }
        Path out = Path.of(args[0]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, raXml(args[1]), StandardCharsets.UTF_8);
    }

    /** The complete descriptor text. */
    public static String raXml(String version) {
        StringBuilder x = new StringBuilder(16_384);
        x.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.append("<!-- Generated at build time from dev.proxyra.config.Setting by rar-packaging"
                + " (dev.proxyra.rar.build.RaXmlGenerator). Do not edit: change Setting instead. -->\n");
        x.append("<connector xmlns=\"https://jakarta.ee/xml/ns/jakartaee\"\n"
                + "           xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
                + "           xsi:schemaLocation=\"https://jakarta.ee/xml/ns/jakartaee"
                + " https://jakarta.ee/xml/ns/jakartaee/connector_2_1.xsd\"\n"
                + "           version=\"2.1\" metadata-complete=\"true\">\n");
        element(x, 1, "description", DESCRIPTION);
        element(x, 1, "display-name", "proxyra");
        element(x, 1, "vendor-name", "proxyra");
        element(x, 1, "eis-type", "JDBC database (Oracle Database, PostgreSQL)");
        element(x, 1, "resourceadapter-version", version);
        x.append("  <license>\n");
        element(x, 2, "description", LICENSE);
        element(x, 2, "license-required", "false");
        x.append("  </license>\n");
        x.append("  <resourceadapter>\n");
        element(x, 2, "resourceadapter-class", RESOURCE_ADAPTER_CLASS);
        x.append("    <outbound-resourceadapter>\n");
        x.append("      <connection-definition>\n");
        element(x, 4, "managedconnectionfactory-class", MCF_CLASS);
        for (Setting s : Setting.values()) {
            configProperty(x, s);
        }
        element(x, 4, "connectionfactory-interface", CONNECTION_FACTORY_INTERFACE);
        element(x, 4, "connectionfactory-impl-class", CONNECTION_FACTORY_IMPL);
        element(x, 4, "connection-interface", CONNECTION_INTERFACE);
        element(x, 4, "connection-impl-class", CONNECTION_IMPL);
        x.append("      </connection-definition>\n");
        // the most a pool may choose; the factory reports the pool's own TransactionSupport (LocalTransaction unless set)
        element(x, 3, "transaction-support", "XATransaction");
        x.append("      <authentication-mechanism>\n");
        element(x, 4, "description", "The proxy account's user and password, when the server supplies them"
                + " (pool User/Password properties or a container-managed sign-on).");
        element(x, 4, "authentication-mechanism-type", "BasicPassword");
        element(x, 4, "credential-interface", "jakarta.resource.spi.security.PasswordCredential");
        x.append("      </authentication-mechanism>\n");
        element(x, 3, "reauthentication-support", "false");
        x.append("    </outbound-resourceadapter>\n");
        x.append("  </resourceadapter>\n");
        x.append("</connector>\n");
        return x.toString();
    }

    /**
     * No config-property-value: servers pass those to the factory as if an administrator had set them, and a
     * value set on the pool must win over MicroProfile Config while a default must not. The default is stated in
     * the description instead, which consoles show.
     */
    private static void configProperty(StringBuilder x, Setting s) {
        x.append("        <config-property>\n");
        element(x, 5, "description", description(s));
        element(x, 5, "config-property-name", s.propertyName());
        element(x, 5, "config-property-type", s.beanType().getName());
        if (s.secret()) {
            element(x, 5, "config-property-confidential", "true");
        }
        x.append("        </config-property>\n");
    }

    /** The property's description, with its default when it has one. */
    public static String description(Setting s) {
        return s.defaultValue() == null ? s.description() : s.description() + " Default: " + s.defaultValue() + ".";
    }

    private static void element(StringBuilder x, int depth, String name, String text) {
        x.append("  ".repeat(depth)).append('<').append(name).append('>')
                .append(escape(text))
                .append("</").append(name).append(">\n");
    }

    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
