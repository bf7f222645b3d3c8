package dev.proxyra.bench;

import java.sql.SQLException;

/** One scenario's unit of work: borrow, {@code select current_user} as {@code caller}, give back. */
public interface Workload extends AutoCloseable {

    /** Returns the database's current_user, so callers can check it and JMH cannot elide the work. */
    String borrowAndQuery(String caller) throws SQLException;

    @Override
    void close();
}
