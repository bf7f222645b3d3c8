package dev.proxyra.it.redeploy;

import javax.transaction.xa.XAResource;

import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.BootstrapContext;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.endpoint.MessageEndpointFactory;

/**
 * The control of the redeploy suite: a resource adapter that does nothing, deployed and undeployed like
 * proxyra.rar, so that what the server itself keeps of an undeployed adapter can be told apart from what
 * proxyra keeps.
 */
public class ControlAdapter implements ResourceAdapter {

    @Override
    public void start(BootstrapContext context) {
    }

    @Override
    public void stop() {
    }

    @Override
    public void endpointActivation(MessageEndpointFactory factory, ActivationSpec spec) {
    }

    @Override
    public void endpointDeactivation(MessageEndpointFactory factory, ActivationSpec spec) {
    }

    @Override
    public XAResource[] getXAResources(ActivationSpec[] specs) {
        return new XAResource[0];
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
