package dev.proxyra.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.sql.Connection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.Properties;

import oracle.jdbcfake.FakeOracleDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;
import oracle.ucp.jdbc.PoolDataSourceImpl;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.pool.Lease;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.spi.ProxyraResourceAdapter;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.RecordingOracleConnection;

/**
 * Guards for what the Oracle tests rely on in UCP: that the fake factory really takes UCP's Oracle path (a fake that
 * slipped back to UCP's generic path would prove nothing about real ojdbc connections), and which factory class
 * names UCP routes to which of its pools. An upgrade of UCP that changes either fails here.
 */
class UcpOraclePathTest {
    private ProxyraResourceAdapter ra;
    private ProxyraManagedConnectionFactory mcf;

    @BeforeEach
    void setUp() {
        FakeOracleDataSource.reset();
        ra = new ProxyraResourceAdapter();
        ra.start(null);
        mcf = Factories.onFakeOracle().maxPoolSize(1).resourceAdapter(ra).build();
    }

    @AfterEach
    void tearDown() {
        ra.stop();
    }

    @Test
    void theFakeIsPooledThroughUcpsOracleProxyNotItsGenericOne() throws Exception {
        Lease session = mcf.pool().borrow(DbIdentity.of("ALICE", "alice"));
        Connection handle = session.connection();
        mcf.pool().release(session);
        assertThat(handle.getClass().getName()).contains("UCPOracleProxy").doesNotContain("NonOracle");
        RecordingOracleConnection physical = FakeOracleDataSource.OPENED.get(0);
        // what only UCP's Oracle pooled connection does with a connection it opened
        assertThat(physical.calls).contains("executeQuery(select GSMADMIN_INTERNAL.GETSHARDINGMODE from sys.dual)",
                "setClientInfo(ORA$HA.CONNECTION_POOL=UCP)", "beginRequest", "endRequest");
    }

    /** The pool UCP builds for a factory class name: it decides on the name alone, before any connection. */
    @ParameterizedTest
    @CsvSource({
        "oracle.jdbc.pool.OracleDataSource, OracleReplayableConnectionConnectionPool",
        "oracle.jdbc.datasource.impl.OracleDataSource, OracleReplayableConnectionConnectionPool",
        "oracle.jdbc.replay.OracleDataSourceImpl, OracleReplayableConnectionConnectionPool",
        "oracle.jdbc.replay.OracleConnectionPoolDataSourceImpl, OracleReplayableConnectionConnectionPool",
        "oracle.jdbc.replay.OracleXADataSourceImpl, OracleReplayableConnectionConnectionPool",
        "oracle.jdbc.pool.OracleConnectionPoolDataSource, OracleConnectionConnectionPool",
        "oracle.jdbc.xa.client.OracleXADataSource, OracleConnectionConnectionPool",
        "oracle.jdbc.OracleDriver, OracleConnectionConnectionPool",
        "oracle.jdbcfake.FakeOracleDataSource, OracleConnectionConnectionPool",
    })
    void ucpRoutesFactoryClassNamesToItsPools(String factoryClassName, String poolClass) throws Exception {
        assertThat(ucpPoolFor(factoryClassName)).isEqualTo("oracle.ucp.jdbc.oracle." + poolClass);
    }

    @Test
    void ojdbcsApplicationContinuityIsTurnedOffOnEveryConnectionUcpOpens() throws Exception {
        Lease session = mcf.pool().borrow(DbIdentity.of("ALICE", "alice"));
        mcf.pool().release(session);
        assertThat(FakeOracleDataSource.lastConnectionProperties)
                .containsEntry(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, "false");
    }

    /** What the connection property relies on in ojdbc: it decides whether a connection becomes a replay proxy. */
    @Test
    void ojdbcReadsEnableACSupportFromTheConnectionPropertiesUnlessTheJvmPropertyIsSet() throws Exception {
        oracle.jdbc.pool.OracleDataSource ods = new oracle.jdbc.pool.OracleDataSource();
        assertThat(acSupport(ods)).as("ojdbc's default").isTrue();
        Properties props = new Properties();
        props.setProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, "false");
        ods.setConnectionProperties(props);
        assertThat(acSupport(ods)).isFalse();
        String before = System.getProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT);
        System.setProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, "true");
        try {
            assertThat(acSupport(ods)).as("the JVM property outranks the connection property").isTrue();
        } finally {
            System.clearProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT);
            if (before != null) {
                System.setProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, before);
            }
        }
    }

    private static boolean acSupport(oracle.jdbc.pool.OracleDataSource ods) throws Exception {
        Method m = oracle.jdbc.datasource.impl.OracleDataSource.class.getDeclaredMethod("isACSupportPropertySet");
        m.setAccessible(true);
        return (Boolean) m.invoke(ods);
    }

    @ParameterizedTest
    @ValueSource(strings = {"oracle.jdbc.replay.OracleDataSourceImpl", "oracle.jdbc.replay.OracleConnectionPoolDataSourceImpl",
        "oracle.jdbc.replay.OracleXADataSourceImpl"})
    void theReplayFactoriesAreRefusedAtStartNamingTheProperty(String factory) {
        mcf.setConnectionFactoryClassName(factory);
        assertThatThrownBy(mcf::pool).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("08001");
            assertThat(e.getMessage()).contains("ConnectionFactoryClassName=" + factory).contains("Application Continuity");
        });
        assertThat(FakeOracleDataSource.OPENED).isEmpty();
    }

    @Test
    void aJvmThatTurnsApplicationContinuityOnIsRefusedNamingTheSystemProperty() {
        System.setProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, "true");
        try {
            assertThatThrownBy(mcf::pool).hasMessageContaining("oracle.jdbc.enableACSupport=true");
        } finally {
            System.clearProperty(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT);
        }
        assertThat(FakeOracleDataSource.OPENED).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdbc:oracle:thin:@//db.invalid:1521/ERP:POOLED", "jdbc:oracle:thin:@db.invalid:1521/ERP:pooled",
        "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db.invalid)(PORT=1521))"
                + "(CONNECT_DATA=(SERVICE_NAME=ERP)( SERVER = POOLED )))"})
    void aPooledServerUrlIsRefusedAtStartNamingTheProperty(String url) {
        mcf.setURL(url);
        assertThatThrownBy(mcf::pool).hasMessageContaining("URL asks for a pooled server (DRCP");
    }

    @Test
    void aProxyClientInTheUserIsRefusedAtStartNamingTheProperty() {
        mcf.setUser("PROXY_USER[ALICE]");
        assertThatThrownBy(mcf::pool).hasMessageContaining("User=PROXY_USER[ALICE] names a proxy client");
    }

    /** The pool class UCP builds for {@code factoryClassName}, without connecting (UCP's own creation step). */
    static String ucpPoolFor(String factoryClassName) throws Exception {
        PoolDataSourceImpl pds = (PoolDataSourceImpl) PoolDataSourceFactory.getPoolDataSource();
        pds.setConnectionFactoryClassName(factoryClassName);
        pds.setURL("jdbc:oracle:thin:@//db.invalid:1521/ERP");
        pds.setUser("U");
        pds.setPassword("P");
        Method init = PoolDataSourceImpl.class.getDeclaredMethod("initConnectionFactory");
        init.setAccessible(true);
        init.invoke(pds);
        Method create = PoolDataSourceImpl.class.getDeclaredMethod("createPoolWithDefaultProperties");
        create.setAccessible(true);
        create.invoke(pds);
        Field pool = PoolDataSourceImpl.class.getDeclaredField("connectionPool");
        pool.setAccessible(true);
        return pool.get(pds).getClass().getName();
    }
}
