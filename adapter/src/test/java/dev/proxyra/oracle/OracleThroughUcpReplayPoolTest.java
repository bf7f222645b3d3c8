package dev.proxyra.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import oracle.jdbc.datasource.implfake.ReplayPoolFakeDataSource;

/**
 * Every Oracle sequence again, on the pool UCP builds for proxyra's default factory {@code oracle.jdbc.pool.OracleDataSource}:
 * its replay pool, with Application Continuity off.
 */
class OracleThroughUcpReplayPoolTest extends OracleThroughUcpTest {
    @Override
    String factoryClassName() {
        return ReplayPoolFakeDataSource.class.getName();
    }

    @Test
    void theFakeIsServedByUcpsReplayPoolAsTheDefaultFactoryIs() throws Exception {
        assertThat(UcpOraclePathTest.ucpPoolFor(factoryClassName()))
                .isEqualTo(UcpOraclePathTest.ucpPoolFor("oracle.jdbc.pool.OracleDataSource"))
                .endsWith("OracleReplayableConnectionConnectionPool");
        dev.proxyra.pool.Lease session = mcf.pool().borrow(dev.proxyra.identity.DbIdentity.of("ALICE", "alice"));
        String handle = session.connection().getClass().getName();
        mcf.pool().release(session);
        assertThat(handle).contains("OracleProxy").doesNotContain("NonOracle");
        assertThat(oracle.jdbcfake.FakeOracleDataSource.lastConnectionProperties)
                .containsEntry(oracle.jdbc.OracleConnection.CONNECTION_PROPERTY_ENABLE_AC_SUPPORT, "false");
    }
}
