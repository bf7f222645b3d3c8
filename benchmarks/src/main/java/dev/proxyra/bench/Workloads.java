package dev.proxyra.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import javax.sql.DataSource;

import oracle.ucp.ConnectionLabelingCallback;
import oracle.ucp.jdbc.LabelableConnection;
import oracle.ucp.jdbc.PoolDataSource;

import org.postgresql.PGConnection;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.Sessions;
import dev.proxyra.testing.TestCallers;

/** The scenarios' implementations. */
public final class Workloads {
    static final String QUERY = "select current_user";

    private Workloads() {
    }

    /** Opens the workload of {@code scenario} on the database at {@code url} with pools of {@code poolSize}. */
    public static Workload open(Scenario scenario, String url, int poolSize) throws SQLException {
        return open(scenario, url, poolSize, null);
    }

    /**
     * As {@link #open(Scenario, String, int)}, with the pools' physical connections opened by
     * {@code connectionFactoryClassName} instead of PGSimpleDataSource (null: the real driver).
     */
    public static Workload open(Scenario scenario, String url, int poolSize, String connectionFactoryClassName)
            throws SQLException {
        if (connectionFactoryClassName != null && scenario == Scenario.NEW_CONNECTION) {
            throw new IllegalArgumentException("a new connection per request needs the real driver");
        }
        return switch (scenario) {
            case PROXYRA_SAME, PROXYRA_SWITCH -> new Proxyra(url, poolSize, "VERIFY", connectionFactoryClassName);
            case PROXYRA_SAME_SCAN -> new Proxyra(url, poolSize, "SCAN", connectionFactoryClassName);
            case UCP_LABELLED -> new UcpLabelled(url, poolSize, connectionFactoryClassName);
            case UCP_SET_ROLE -> new UcpSetRole(url, poolSize, connectionFactoryClassName);
            case NEW_CONNECTION -> new NewConnection(url);
        };
    }

    static String currentUser(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery(QUERY)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static String quoted(Connection c, String role) throws SQLException {
        return c.unwrap(PGConnection.class).escapeIdentifier(role);
    }

    /**
     * The non-managed proxyra DataSource, configured as the adapter's tests configure it
     * (dev.proxyra.testing.Factories.onUrl) with the pool size of the other scenarios. The caller comes
     * from {@link TestCallers}, the thread-local CallerSource, as a web framework's request user would.
     */
    static final class Proxyra implements Workload {
        private final ProxyraManagedConnectionFactory mcf;
        private final DataSource ds;

        Proxyra(String url, int poolSize, String identityCheck, String connectionFactoryClassName) {
            mcf = factory(url, poolSize);
            mcf.setIdentityCheck(identityCheck);
            if (connectionFactoryClassName != null) {
                setConnectionFactoryClassName(mcf, connectionFactoryClassName);
            }
            ds = (DataSource) mcf.createConnectionFactory();
        }

        /** Through reflection, so the benchmarks still build against an adapter without this property. */
        static void setConnectionFactoryClassName(ProxyraManagedConnectionFactory mcf, String className) {
            try {
                mcf.getClass().getMethod("setConnectionFactoryClassName", String.class).invoke(mcf, className);
            } catch (ReflectiveOperationException e) {
                throw new UnsupportedOperationException("this adapter has no ConnectionFactoryClassName property", e);
            }
        }

        static ProxyraManagedConnectionFactory factory(String url, int poolSize) {
            return Factories.onUrl(url).maxPoolSize(poolSize).waitTimeout(Ucp.CONNECTION_WAIT_TIMEOUT)
                    .property("InactiveConnectionTimeout", String.valueOf(Ucp.INACTIVE_CONNECTION_TIMEOUT))
                    .validateOnBorrow(String.valueOf(Ucp.VALIDATE_ON_BORROW))
                    .build();
        }

        @Override
        public String borrowAndQuery(String caller) throws SQLException {
            TestCallers.set(caller);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                return currentUser(s);
            }
        }

        /** Sessions the pool threw away: none in a healthy run, where every borrow reuses or switches one. */
        long discarded() throws SQLException {
            return mcf.pool().discardedCount();
        }

        @Override
        public void close() {
            mcf.close();
        }
    }

    /**
     * Raw UCP as its documentation teaches connection labelling: the borrow asks for the role label,
     * the labelling callback runs SET ROLE only when UCP hands out a connection labelled otherwise,
     * and the label stays on the connection when it is returned.
     */
    static final class UcpLabelled implements Workload {
        static final String KEY = "role";
        private final PoolDataSource ucp;

        UcpLabelled(String url, int poolSize) throws SQLException {
            this(url, poolSize, null);
        }

        UcpLabelled(String url, int poolSize, String connectionFactoryClassName) throws SQLException {
            ucp = Ucp.pool(url, poolSize, connectionFactoryClassName);
            ucp.registerConnectionLabelingCallback(new RoleLabels());
        }

        @Override
        public String borrowAndQuery(String caller) throws SQLException {
            Properties labels = new Properties();
            labels.setProperty(KEY, caller);
            try (Connection c = ucp.getConnection(labels); Statement s = c.createStatement()) {
                return currentUser(s);
            }
        }

        PoolDataSource ucp() {
            return ucp;
        }

        @Override
        public void close() {
            Ucp.destroy(ucp);
        }

        static final class RoleLabels implements ConnectionLabelingCallback {
            @Override
            public int cost(Properties requested, Properties current) {
                String want = requested.getProperty(KEY);
                String have = current == null ? null : current.getProperty(KEY);
                if (want != null && want.equals(have)) {
                    return 0;
                }
                return have == null ? 1 : 10;
            }

            @Override
            public boolean configure(Properties requested, Object connection) {
                Connection c = (Connection) connection;
                String role = requested.getProperty(KEY);
                try (Statement s = c.createStatement()) {
                    s.execute("SET ROLE " + quoted(c, role));
                    ((LabelableConnection) c).applyConnectionLabel(KEY, role);
                    return true;
                } catch (SQLException e) {
                    return false;
                }
            }
        }
    }

    /** Raw UCP without labels: SET ROLE after every borrow, RESET ROLE before every return. */
    static final class UcpSetRole implements Workload {
        private final PoolDataSource ucp;

        UcpSetRole(String url, int poolSize, String connectionFactoryClassName) throws SQLException {
            ucp = Ucp.pool(url, poolSize, connectionFactoryClassName);
        }

        @Override
        public String borrowAndQuery(String caller) throws SQLException {
            try (Connection c = ucp.getConnection(); Statement s = c.createStatement()) {
                s.execute("SET ROLE " + quoted(c, caller));
                try {
                    return currentUser(s);
                } finally {
                    s.execute("RESET ROLE");
                }
            }
        }

        @Override
        public void close() {
            Ucp.destroy(ucp);
        }
    }

    /**
     * No pool: a new physical connection for every request, logged in as the proxy account, then SET ROLE
     * to the caller. The callers are NOLOGIN roles, and logging in as the proxy account goes through the
     * same authentication as a caller's own login would: a scram-sha-256 password check, PostgreSQL's
     * default, as the benchmarks' database requires ({@code Database.startWithPasswordLogins}); the
     * one extra SET ROLE round trip is well under 1% of the connection set-up.
     */
    static final class NewConnection implements Workload {
        private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();
        private final String url;
        private final Properties login = new Properties();

        NewConnection(String url) {
            this.url = url;
            login.setProperty("user", Database.PROXY_USER);
            login.setProperty("password", Database.PROXY_PASSWORD);
        }

        @Override
        public String borrowAndQuery(String caller) throws SQLException {
            // the driver itself, as proxyra's pool does (DriverManager only adds a lookup to the login)
            try (Connection c = DRIVER.connect(url, login); Statement s = c.createStatement()) {
                s.execute("SET ROLE " + quoted(c, caller));
                return currentUser(s);
            }
        }

        @Override
        public void close() {
        }
    }
}
