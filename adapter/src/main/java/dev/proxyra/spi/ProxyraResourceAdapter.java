package dev.proxyra.spi;

import java.io.Serializable;
import java.util.logging.Logger;

import javax.transaction.xa.XAResource;

import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.BootstrapContext;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.endpoint.MessageEndpointFactory;

import dev.proxyra.pool.PoolRegistry;

/**
 * The deployed adapter: owns the UCP pools of all its connection factories and closes them when the
 * server stops it (undeploy, shutdown). Outbound only.
 */
public class ProxyraResourceAdapter implements ResourceAdapter, Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(ProxyraResourceAdapter.class.getName());

    private transient volatile PoolRegistry pools = new PoolRegistry(true);

    @Override
    public void start(BootstrapContext context) {
        PoolRegistry.prepareProcessWideState();
        // A server may bind connection factories, which open their pools here, before it starts the adapter
        // (WildFly does): those pools are this adapter's, closed when it stops. Only a stopped adapter that is
        // started again gets a new registry.
        if (pools.isClosed()) {
            pools = new PoolRegistry(true);
        }
        LOG.info("proxyra: resource adapter started");
    }

    @Override
    public void stop() {
        PoolRegistry current = pools;
        int count = current.pools().size();
        current.close();
        try {
            PoolRegistry.releaseProcessWideState();
        } catch (RuntimeException | LinkageError e) {
            // the server may have removed the adapter's jars already: stopping must still end, and say so
            LOG.log(java.util.logging.Level.WARNING, "proxyra: stopping the adapter failed to release the drivers'"
                    + " and UCP's global state: " + e, e);
        }
        LOG.info("proxyra: resource adapter stopped; closed " + count + " pool(s)");
    }

    PoolRegistry pools() {
        return pools;
    }

    @Override
    public void endpointActivation(MessageEndpointFactory factory, ActivationSpec spec) throws ResourceException {
        throw new NotSupportedException("proxyra is an outbound adapter only");
    }

    @Override
    public void endpointDeactivation(MessageEndpointFactory factory, ActivationSpec spec) {
        // nothing was activated
    }

    @Override
    public XAResource[] getXAResources(ActivationSpec[] specs) {
        return new XAResource[0];
    }

    // The adapter has no configuration properties: each deployed instance is distinct.
    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
