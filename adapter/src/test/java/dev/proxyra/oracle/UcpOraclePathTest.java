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

import oracle.jdbcfake.FakeOracleDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;
import oracle.ucp.jdbc.PoolDataSourceImpl;

import dev.proxyra.config.ExternalConfig;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.pool.PhysicalSession;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;
import dev.proxyra.spi.ProxyraResourceAdapter;
import dev.proxyra.testing.RecordingOracleConnection;
import dev.proxyra.testing.TestCallers;

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
        mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.NONE);
        mcf.setURL("jdbc:oracle:thin:@//db.invalid:1521/ERP");
        mcf.setUser("PROXY_USER");
        mcf.setPassword("proxy-password");
        mcf.setConnectionFactoryClassName(FakeOracleDataSource.class.getName());
        mcf.setMaxPoolSize(1);
        mcf.setCallerSource(TestCallers.class.getName());
        mcf.setResourceAdapter(ra);
    }

    @AfterEach
    void tearDown() {
        ra.stop();
    }

    @Test
    void theFakeIsPooledThroughUcpsOracleProxyNotItsGenericOne() throws Exception {
        PhysicalSession session = mcf.pool().borrow(DbIdentity.of("ALICE", "alice"));
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
