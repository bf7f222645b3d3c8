package dev.proxyra.rar;

import dev.proxyra.config.Setting;
import dev.proxyra.rar.build.RaXmlGenerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The build check on the packaged {@code proxyra.rar}: its ra.xml agrees with {@link Setting} and with the
 * JavaBean properties of the managed connection factory, the classes it names exist and implement what
 * ra.xml says, and the archive holds exactly the adapter, the drivers and their license texts.
 */
class RarArchiveIT {

    private static final String NS = "https://jakarta.ee/xml/ns/jakartaee";
    private static final Set<Class<?>> PROPERTY_TYPES = Set.of(String.class, Integer.class, Boolean.class,
            int.class, boolean.class, long.class, Long.class);

    private static Path rar;
    private static Map<String, byte[]> entries;
    private static Element connector;

    @BeforeAll
    static void readRar() throws Exception {
        rar = Path.of(System.getProperty("proxyra.rar", "target/proxyra.rar"));
        assertThat(rar).as("the rar built by this module").isRegularFile();
        entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(rar.toFile())) {
            for (ZipEntry e : zip.stream().toList()) {
                if (!e.isDirectory()) {
                    try (InputStream in = zip.getInputStream(e)) {
                        entries.put(e.getName(), in.readAllBytes());
                    }
                }
            }
        }
        assertThat(entries).containsKey("META-INF/ra.xml");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(entries.get("META-INF/ra.xml")));
        connector = doc.getDocumentElement();
    }

    @Test
    void descriptorHeaderAndConnectionDefinition() {
        assertThat(connector.getNamespaceURI()).isEqualTo(NS);
        assertThat(connector.getLocalName()).isEqualTo("connector");
        assertThat(connector.getAttribute("version")).isEqualTo("2.1");
        assertThat(connector.getAttribute("metadata-complete")).isEqualTo("true");
        assertThat(text(connector, "display-name")).isEqualTo("proxyra");
        assertThat(text(connector, "vendor-name")).isEqualTo("proxyra");
        assertThat(text(connector, "description")).contains("proxy session").contains("SET ROLE");
        assertThat(text(connector, "resourceadapter-version")).isEqualTo(System.getProperty("proxyra.version"));
        Element license = child(connector, "license");
        assertThat(text(license, "description")).contains("Oracle Free Use Terms").contains("BSD 2-Clause");

        Element ra = child(connector, "resourceadapter");
        assertThat(text(ra, "resourceadapter-class")).isEqualTo("dev.proxyra.spi.ProxyraResourceAdapter");
        Element outbound = child(ra, "outbound-resourceadapter");
        assertThat(children(outbound, "connection-definition")).hasSize(1);
        Element cd = child(outbound, "connection-definition");
        assertThat(text(cd, "managedconnectionfactory-class")).isEqualTo("dev.proxyra.spi.ProxyraManagedConnectionFactory");
        assertThat(text(cd, "connectionfactory-interface")).isEqualTo("javax.sql.DataSource");
        assertThat(text(cd, "connectionfactory-impl-class")).isEqualTo("dev.proxyra.jdbc.ProxyraDataSource");
        assertThat(text(cd, "connection-interface")).isEqualTo("java.sql.Connection");
        assertThat(text(cd, "connection-impl-class")).isEqualTo("dev.proxyra.jdbc.ConnectionHandle");
        assertThat(text(outbound, "transaction-support")).isEqualTo("XATransaction");
        assertThat(text(outbound, "reauthentication-support")).isEqualTo("false");
        // nothing but the connection definition's properties: no resource-adapter-level config-property
        assertThat(children(ra, "config-property")).isEmpty();
    }

    @Test
    void configPropertiesAreExactlyTheSettings() {
        Element cd = child(child(child(connector, "resourceadapter"), "outbound-resourceadapter"), "connection-definition");
        List<Element> props = children(cd, "config-property");
        List<String> names = props.stream().map(p -> text(p, "config-property-name")).toList();
        List<String> expected = java.util.Arrays.stream(Setting.values()).map(Setting::propertyName).toList();
        assertThat(names).as("config-property names in ra.xml, in order").containsExactlyElementsOf(expected);

        List<String> problems = new ArrayList<>();
        for (Element p : props) {
            Setting s = Setting.byPropertyName(text(p, "config-property-name"));
            String name = s.propertyName();
            check(problems, name, "type", s.beanType().getName(), text(p, "config-property-type"));
            check(problems, name, "description", RaXmlGenerator.description(s), text(p, "description"));
            // servers pass a config-property-value as if an administrator had set it: none may be declared
            check(problems, name, "value", null, optionalText(p, "config-property-value"));
            check(problems, name, "confidential", s.secret() ? "true" : null,
                    optionalText(p, "config-property-confidential"));
            if (!List.of(String.class, Integer.class).contains(s.beanType())) {
                // a flag is a String the adapter parses strictly: a server converting to Boolean would fail open
                problems.add(name + ": type " + s.beanType().getName() + " is not String or Integer");
            }
        }
        assertThat(problems).as("ra.xml vs dev.proxyra.config.Setting").isEmpty();
        assertThat(optionalText(props.get(expected.indexOf("Password")), "config-property-confidential"))
                .isEqualTo("true");
        // the shipped descriptor is what the generator writes for this version, byte for byte
        assertThat(new String(entries.get("META-INF/ra.xml"), StandardCharsets.UTF_8))
                .isEqualTo(RaXmlGenerator.raXml(System.getProperty("proxyra.version")));
    }

    @Test
    void managedConnectionFactoryBeanMatchesTheDescriptor() throws Exception {
        Class<?> mcf = Class.forName(RaXmlGenerator.MCF_CLASS);
        assertThat(jakarta.resource.spi.ManagedConnectionFactory.class).isAssignableFrom(mcf);
        Object bean = mcf.getConstructor().newInstance();

        List<String> problems = new ArrayList<>();
        for (Setting s : Setting.values()) {
            String name = s.propertyName();
            Method setter = publicMethod(mcf, "set" + name, s.beanType());
            Method getter = publicMethod(mcf, "get" + name);
            if (s == Setting.TRANSACTION_SUPPORT) {
                // the only getter is jakarta.resource.spi.TransactionSupport's, which returns the level it parses
                if (setter == null) {
                    problems.add("no public void set" + name + "(String)");
                } else if (getter == null || getter.getReturnType()
                        != jakarta.resource.spi.TransactionSupport.TransactionSupportLevel.class) {
                    problems.add("get" + name + "() is not TransactionSupport's getTransactionSupport()");
                } else {
                    setter.invoke(bean, "XATransaction");
                    if (!getter.invoke(bean).toString().equals("XATransaction")) {
                        problems.add("setTransactionSupport(XATransaction) then getTransactionSupport() returned "
                                + getter.invoke(bean));
                    }
                }
                continue;
            }
            if (setter == null) {
                problems.add("no public void set" + name + "(" + s.beanType().getSimpleName() + ")");
            }
            if (getter == null) {
                problems.add("no public " + s.beanType().getSimpleName() + " get" + name + "()");
            } else if (getter.getReturnType() != s.beanType()) {
                problems.add("get" + name + "() returns " + getter.getReturnType().getName() + ", ra.xml says "
                        + s.beanType().getName());
            }
            if (setter != null && getter != null && getter.getReturnType() == s.beanType()) {
                Object value = sample(s);
                setter.invoke(bean, value);
                Object back = getter.invoke(bean);
                if (!value.equals(back)) {
                    problems.add("set" + name + "(" + (s.secret() ? "<secret>" : value) + ") then get" + name
                            + "() returned " + (s.secret() ? "<other>" : back));
                }
            }
        }
        // and the other way round: no configurable setter that ra.xml does not declare
        Set<String> declared = java.util.Arrays.stream(Setting.values()).map(Setting::propertyName)
                .collect(Collectors.toSet());
        for (Method m : mcf.getMethods()) {
            if (m.getName().startsWith("set") && m.getParameterCount() == 1 && !Modifier.isStatic(m.getModifiers())
                    && PROPERTY_TYPES.contains(m.getParameterTypes()[0])
                    && !declared.contains(m.getName().substring(3))) {
                problems.add(m + " is a configurable property missing from Setting/ra.xml");
            }
            Setting declaredAs = m.getName().startsWith("set") ? Setting.byPropertyName(m.getName().substring(3)) : null;
            if (declaredAs != null && m.getParameterCount() == 1 && m.getParameterTypes()[0] != declaredAs.beanType()) {
                // a server may pick a setter by name: one of another type would take a value it converted itself
                problems.add(m + " is a second setter of " + declaredAs.propertyName() + ", whose ra.xml type is "
                        + declaredAs.beanType().getName());
            }
        }
        assertThat(problems).as("ProxyraManagedConnectionFactory vs ra.xml").isEmpty();
    }

    @Test
    void namedClassesImplementWhatTheDescriptorSays() throws Exception {
        assertThat(jakarta.resource.spi.ResourceAdapter.class)
                .isAssignableFrom(Class.forName(RaXmlGenerator.RESOURCE_ADAPTER_CLASS));
        assertThat(javax.sql.DataSource.class).isAssignableFrom(Class.forName(RaXmlGenerator.CONNECTION_FACTORY_IMPL));
        assertThat(java.sql.Connection.class).isAssignableFrom(Class.forName(RaXmlGenerator.CONNECTION_IMPL));
        // and they are in the adapter jar shipped in the rar
        String adapterJar = "proxyra-adapter-" + System.getProperty("proxyra.version") + ".jar";
        Set<String> classes = jarEntries(entries.get(adapterJar));
        for (String cls : List.of(RaXmlGenerator.RESOURCE_ADAPTER_CLASS, RaXmlGenerator.MCF_CLASS,
                RaXmlGenerator.CONNECTION_FACTORY_IMPL, RaXmlGenerator.CONNECTION_IMPL, Setting.class.getName())) {
            assertThat(classes).contains(cls.replace('.', '/') + ".class");
        }
    }

    @Test
    void archiveHoldsTheAdapterTheDriversAndTheirLicensesAndNoServerApis() throws IOException {
        String oracle = System.getProperty("oracle.jdbc.version");
        String pg = System.getProperty("postgresql.version");
        Set<String> jars = entries.keySet().stream().filter(n -> n.endsWith(".jar")).collect(Collectors.toCollection(TreeSet::new));
        assertThat(jars).containsExactlyInAnyOrder(
                "proxyra-adapter-" + System.getProperty("proxyra.version") + ".jar",
                "ucp11-" + oracle + ".jar",
                "ojdbc11-" + oracle + ".jar",
                "ons-" + oracle + ".jar",
                "simplefan-" + oracle + ".jar",
                "oraclepki.jar",
                "postgresql-" + pg + ".jar",
                "HdrHistogram-" + System.getProperty("hdrhistogram.version") + ".jar");
        assertThat(entries.keySet()).noneMatch(n -> n.contains("jakarta") || n.contains("javax") || n.contains("junit"));

        byte[] oracleLicense = entries.get("META-INF/licenses/oracle-free-use-terms.txt");
        assertThat(oracleLicense).as("Oracle Free Use Terms text").isNotNull();
        assertThat(new String(oracleLicense, StandardCharsets.UTF_8)).contains("Oracle Free Distribution, Hosting, and Use Terms");
        assertThat(oracleLicense).as("same text as shipped ojdbc11's META-INF/license.txt")
                .isEqualTo(jarEntry(entries.get("ojdbc11-" + oracle + ".jar"), "META-INF/license.txt"));
        assertThat(oracleLicense).as("same text as shipped ucp11's META-INF/license.txt")
                .isEqualTo(jarEntry(entries.get("ucp11-" + oracle + ".jar"), "META-INF/license.txt"));
        for (String fan : new String[] {"ons-", "simplefan-"}) {
            assertThat(oracleLicense).as("same text as shipped " + fan + " META-INF/license.txt")
                    .isEqualTo(jarEntry(entries.get(fan + oracle + ".jar"), "META-INF/license.txt"));
        }
        assertThat(oracleLicense).as("same text as shipped oraclepki.jar's META-INF/license.txt")
                .isEqualTo(jarEntry(entries.get("oraclepki.jar"), "META-INF/license.txt"));
        // the name ojdbc11's manifest refers to, so that the Class-Path entry resolves inside the rar
        assertThat(jarEntry(entries.get("ojdbc11-" + oracle + ".jar"), "META-INF/MANIFEST.MF"))
                .asString(StandardCharsets.UTF_8).contains("Class-Path: oraclepki.jar");
        assertThat(jarEntry(entries.get("oraclepki.jar"), "META-INF/MANIFEST.MF")).asString(StandardCharsets.UTF_8)
                .contains("Automatic-Module-Name: com.oracle.security.oraclepki");

        byte[] pgLicense = entries.get("META-INF/licenses/postgresql-jdbc-license.txt");
        assertThat(pgLicense).as("PostgreSQL JDBC BSD-2 text").isNotNull();
        assertThat(pgLicense).as("same text as the shipped driver's META-INF/LICENSE")
                .isEqualTo(jarEntry(entries.get("postgresql-" + pg + ".jar"), "META-INF/LICENSE"));
        assertThat(entries).containsKey("META-INF/licenses/README.txt");
    }

    // ---------------------------------------------------------------------------------------------

    private static Object sample(Setting s) {
        String text = s.defaultValue() != null ? s.defaultValue()
                : !s.allowedValues().isEmpty() ? s.allowedValues().get(0)
                : s == Setting.URL ? "jdbc:postgresql://127.0.0.1:5432/erp"
                : "sample-" + s.propertyName();
        return s.beanType() == Integer.class ? Integer.valueOf(text) : text;
    }

    private static Method publicMethod(Class<?> c, String name, Class<?>... params) {
        try {
            Method m = c.getMethod(name, params);
            return Modifier.isStatic(m.getModifiers()) ? null : m;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static void check(List<String> problems, String property, String what, String expected, String actual) {
        if (!java.util.Objects.equals(expected, actual)) {
            problems.add(property + ": " + what + " in ra.xml is [" + actual + "], Setting says [" + expected + "]");
        }
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node n = nodes.item(i);
            if (n instanceof Element e && NS.equals(e.getNamespaceURI()) && name.equals(e.getLocalName())) {
                out.add(e);
            }
        }
        return out;
    }

    private static Element child(Element parent, String name) {
        List<Element> c = children(parent, name);
        if (c.size() != 1) {
            fail("expected one <" + name + "> under <" + parent.getLocalName() + ">, found " + c.size());
        }
        return c.get(0);
    }

    private static String text(Element parent, String name) {
        return child(parent, name).getTextContent().trim();
    }

    private static String optionalText(Element parent, String name) {
        List<Element> c = children(parent, name);
        if (c.size() > 1) {
            fail("more than one <" + name + "> under <" + parent.getLocalName() + ">");
        }
        return c.isEmpty() ? null : c.get(0).getTextContent().trim();
    }

    private static Set<String> jarEntries(byte[] jar) throws IOException {
        assertThat(jar).as("jar present in the rar").isNotNull();
        Set<String> names = new TreeSet<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                names.add(e.getName());
            }
        }
        return names;
    }

    private static byte[] jarEntry(byte[] jar, String name) throws IOException {
        assertThat(jar).as("jar present in the rar").isNotNull();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.getName().equals(name)) {
                    return in.readAllBytes();
                }
            }
        }
        return fail("no " + name + " in the jar");
    }
}
