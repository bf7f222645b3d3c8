package dev.proxyra.bench;

import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

import oracle.ucp.UniversalConnectionPoolException;
import oracle.ucp.admin.UniversalConnectionPoolManagerImpl;
import oracle.ucp.jdbc.PoolDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;

import dev.proxyra.testing.Database;

/**
 * Raw UCP pools for the baselines, configured as proxyra configures its own pool (IdentityPool's constructor with
 * the adapter's defaults) but on pgjdbc's own DataSource, so that a ratio against proxyra measures the adapter
 * against UCP as it is used without it.
 */
final class Ucp {
    private static final AtomicInteger NUMBER = new AtomicInteger();

    /** The adapter's defaults that shape a borrow: see dev.proxyra.config.Setting. */
    static final boolean VALIDATE_ON_BORROW = true;
    static final int CONNECTION_WAIT_TIMEOUT = 5;
    static final int INACTIVE_CONNECTION_TIMEOUT = 300;

    private Ucp() {
    }

    static PoolDataSource pool(String url, int maxPoolSize, String connectionFactoryClassName) throws SQLException {
        PoolDataSource ucp = PoolDataSourceFactory.getPoolDataSource();
        ucp.setConnectionPoolName("bench-ucp-" + NUMBER.incrementAndGet());
        // pgjdbc's own DataSource, as a user of UCP alone would configure it: UCP validates every connection it lends
        // with the driver's isValid, one round trip, where proxyra's factory leaves that to proxyra's own check.
        ucp.setConnectionFactoryClassName(connectionFactoryClassName != null ? connectionFactoryClassName
                : org.postgresql.ds.PGSimpleDataSource.class.getName());
        ucp.setURL(url);
        // UCP ignores setURL for PGSimpleDataSource: the factory property is what counts.
        ucp.setConnectionFactoryProperty("url", url);
        ucp.setUser(Database.PROXY_USER);
        ucp.setPassword(Database.PROXY_PASSWORD);
        ucp.setInitialPoolSize(0);
        ucp.setMinPoolSize(0);
        ucp.setMaxPoolSize(maxPoolSize);
        ucp.setConnectionWaitTimeout(CONNECTION_WAIT_TIMEOUT);
        ucp.setInactiveConnectionTimeout(INACTIVE_CONNECTION_TIMEOUT);
        ucp.setValidateConnectionOnBorrow(VALIDATE_ON_BORROW);
        return ucp;
    }

    static void destroy(PoolDataSource ucp) {
        try {
            UniversalConnectionPoolManagerImpl.getUniversalConnectionPoolManager()
                    .destroyConnectionPool(ucp.getConnectionPoolName());
        } catch (UniversalConnectionPoolException e) {
            // never started: nothing to close
        }
    }
}
