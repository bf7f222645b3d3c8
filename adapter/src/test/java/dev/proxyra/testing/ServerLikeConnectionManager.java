package dev.proxyra.testing;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;

/**
 * A ConnectionManager that treats managed connections as an application server does, and records
 * what the adapter told it: a managed connection per request; on CONNECTION_CLOSED it cleans up and
 * destroys it, on CONNECTION_ERROR_OCCURRED it destroys it at once (invalidating the handle), as Payara
 * does. Tests ask, for a failed request's handle, whether an error event was sent for it.
 */
public final class ServerLikeConnectionManager implements ConnectionManager {
    private static final long serialVersionUID = 1L;

    /** What one managed connection reported. */
    public static final class Tracked {
        public final List<ConnectionEvent> errors = new CopyOnWriteArrayList<>();
        public volatile boolean closedEvent;
        public volatile boolean destroyed;
    }

    private final transient Map<ManagedConnection, Tracked> byManaged = new ConcurrentHashMap<>();
    private final transient Map<Object, Tracked> byHandle = new ConcurrentHashMap<>();
    private final transient Listener listener = new Listener();
    private final transient ThreadLocal<Tracked> lastFailedAllocation = new ThreadLocal<>();
    private final transient AtomicInteger allocated = new AtomicInteger();
    private final transient AtomicInteger errorEvents = new AtomicInteger();
    private final transient AtomicInteger destroyFailures = new AtomicInteger();

    @Override
    public Object allocateConnection(ManagedConnectionFactory factory, ConnectionRequestInfo request)
            throws ResourceException {
        ManagedConnection mc = factory.createManagedConnection(null, request);
        Tracked tracked = new Tracked();
        byManaged.put(mc, tracked);
        mc.addConnectionEventListener(listener);
        Object handle;
        try {
            handle = mc.getConnection(null, request);
        } catch (ResourceException | RuntimeException e) {
            lastFailedAllocation.set(tracked);
            destroy(mc);
            throw e;
        }
        allocated.incrementAndGet();
        byHandle.put(handle, tracked);
        return handle;
    }

    /** For the calling thread's last getConnection that failed: what the adapter reported before it failed. */
    public Tracked lastFailedAllocation() {
        return lastFailedAllocation.get();
    }

    /** What was reported for the managed connection behind {@code handle}; null once it closed cleanly. */
    public Tracked trackedFor(Object handle) {
        return byHandle.get(handle);
    }

    public int allocated() {
        return allocated.get();
    }

    public int errorEvents() {
        return errorEvents.get();
    }

    /** Managed connections neither closed by their handle nor destroyed: the server's view of a leak. */
    public int live() {
        return byManaged.size();
    }

    public int destroyFailures() {
        return destroyFailures.get();
    }

    private void destroy(ManagedConnection mc) {
        Tracked t = byManaged.remove(mc);
        if (t != null) {
            t.destroyed = true;
        }
        try {
            mc.destroy();
        } catch (ResourceException | RuntimeException e) {
            destroyFailures.incrementAndGet();
        }
    }

    private final class Listener implements ConnectionEventListener {
        @Override
        public void connectionClosed(ConnectionEvent event) {
            ManagedConnection mc = (ManagedConnection) event.getSource();
            Tracked t = byManaged.get(mc);
            if (t != null) {
                t.closedEvent = true;
                if (t.errors.isEmpty()) {
                    byHandle.remove(event.getConnectionHandle());
                }
            }
            try {
                mc.cleanup();
            } catch (ResourceException | RuntimeException e) {
                destroyFailures.incrementAndGet();
            }
            destroy(mc);
        }

        @Override
        public void connectionErrorOccurred(ConnectionEvent event) {
            ManagedConnection mc = (ManagedConnection) event.getSource();
            errorEvents.incrementAndGet();
            Tracked t = byManaged.get(mc);
            if (t != null) {
                t.errors.add(event);
            }
            destroy(mc);
        }

        @Override
        public void localTransactionStarted(ConnectionEvent event) {
        }

        @Override
        public void localTransactionCommitted(ConnectionEvent event) {
        }

        @Override
        public void localTransactionRolledback(ConnectionEvent event) {
        }
    }
}
