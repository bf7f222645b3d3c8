package dev.proxyra.pool;

import java.sql.DriverManager;

/**
 * Makes DriverManager initialise itself. Never run as loaded by the adapter: {@link UcpRuntime} defines a copy
 * in a throwaway class loader below the platform loader, so that DriverManager's caller check, which loads
 * every registered driver's class through the caller's loader, finds none of them and initialises nothing.
 */
public final class DriverManagerProbe implements Runnable {
    @Override
    public void run() {
        DriverManager.getDrivers();
    }
}
