package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

import org.postgresql.ds.PGSimpleDataSource;

import dev.proxyra.SqlState;

/**
 * pgjdbc's DataSource, with every JavaBean property UCP may set, but connecting through the driver itself
 * instead of DriverManager. DriverManager initialises itself once per JVM by loading every java.sql.Driver
 * the thread's context class loader can see; when the first proxyra borrow does that under the adapter's
 * loader, the bundled ojdbc driver starts its own threads there, and they keep the adapter's class loader
 * alive after undeploy. The connections it makes answer UCP's validation from local state
 * ({@link LocallyValidatedConnection}): proxyra's borrow makes the round trip that tells a dead session.
 */
public final class PostgresDataSource extends PGSimpleDataSource {
    private static final long serialVersionUID = 1L;
    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    @Override
    public Connection getConnection() throws SQLException {
        return getConnection(getUser(), getPassword());
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        Properties info = new Properties();
        if (user != null) {
            info.setProperty("user", user);
        }
        if (password != null) {
            info.setProperty("password", password);
        }
        Connection connection = DRIVER.connect(getUrl(), info);
        if (connection == null) {
            throw new SQLException("proxyra: not a PostgreSQL URL", SqlState.UNABLE_TO_CONNECT);
        }
        return new LocallyValidatedConnection(connection);
    }
}
