package dev.proxyra.spi;

import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;

/**
 * The ConnectionManager for use outside an application server (JCA 2.1, 6.5.2): a managed connection
 * per request, released when its handle closes. Managed connections are thin, so pooling them would
 * add nothing: UCP pools the physical connections.
 */
final class NonManagedConnectionManager implements ConnectionManager {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(NonManagedConnectionManager.class.getName());

    @Override
    public Object allocateConnection(ManagedConnectionFactory factory, ConnectionRequestInfo request)
            throws ResourceException {
        ManagedConnection mc = factory.createManagedConnection(null, request);
        mc.addConnectionEventListener(Release.INSTANCE);
        try {
            return mc.getConnection(null, request);
        } catch (ResourceException | RuntimeException e) {
            mc.destroy();
            throw e;
        }
    }

    /** Stateless, so one instance serves every managed connection. */
    private enum Release implements ConnectionEventListener {
        INSTANCE;

        @Override
        public void connectionClosed(ConnectionEvent event) {
            ManagedConnection mc = (ManagedConnection) event.getSource();
            try {
                mc.cleanup();
                mc.destroy();
            } catch (ResourceException e) {
                LOG.log(Level.WARNING, "proxyra: releasing a connection failed", e);
            }
        }

        @Override
        public void connectionErrorOccurred(ConnectionEvent event) {
            // The handle stays usable only to see its errors; the session is discarded on close.
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
