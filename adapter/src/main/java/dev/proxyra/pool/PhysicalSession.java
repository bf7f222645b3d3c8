package dev.proxyra.pool;

import java.sql.Connection;

import dev.proxyra.identity.DbIdentity;

/** A physical connection borrowed from UCP, running as one identity until it is released. */
public final class PhysicalSession {
    private final Connection connection;
    private final DbIdentity identity;

    PhysicalSession(Connection connection, DbIdentity identity) {
        this.connection = connection;
        this.identity = identity;
    }

    /** UCP's connection: never handed to the application. */
    public Connection connection() {
        return connection;
    }

    public DbIdentity identity() {
        return identity;
    }
}
