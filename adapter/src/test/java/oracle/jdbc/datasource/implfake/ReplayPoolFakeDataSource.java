package oracle.jdbc.datasource.implfake;

import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

import oracle.jdbc.OracleConnection;
import oracle.jdbc.datasource.impl.OracleConnectionBuilderImpl;
import oracle.jdbcfake.FakeOracleDataSource;

/**
 * ojdbc's own {@code oracle.jdbc.pool.OracleDataSource} with only the connecting replaced, under a name UCP sends to
 * its replay (Application Continuity) pool, as it sends proxyra's default factory (UCP matches the prefix
 * {@code oracle.jdbc.datasource.impl}). That pool builds connections with ojdbc's connection builder: the builder
 * here returns {@link FakeOracleDataSource}'s recording connections, scripted and recorded there. Where it differs
 * from the real driver: the builder skips ojdbc's connecting, so whether ojdbc would have made a replay proxy
 * (enableACSupport) is not exercised here but in {@code UcpOraclePathTest}.
 */
public class ReplayPoolFakeDataSource extends oracle.jdbc.pool.OracleDataSource {
    private static final long serialVersionUID = 1L;

    public ReplayPoolFakeDataSource() throws SQLException {
        super();
    }

    @Override
    public void setConnectionProperties(Properties properties) throws SQLException {
        super.setConnectionProperties(properties);
        FakeOracleDataSource.lastConnectionProperties = properties == null ? new Properties()
                : (Properties) properties.clone();
    }

    @Override
    public OracleConnectionBuilderImpl createConnectionBuilder() {
        return new OracleConnectionBuilderImpl() {
            @Override
            public oracle.jdbc.internal.OracleConnection build() {
                return FakeOracleDataSource.open();
            }

            @Override
            public CompletionStage<OracleConnection> buildAsyncOracle() {
                throw new UnsupportedOperationException("the fake connects synchronously only");
            }

            @Override
            public Flow.Publisher<OracleConnection> buildConnectionPublisherOracle() {
                throw new UnsupportedOperationException("the fake connects synchronously only");
            }
        };
    }
}
