package dev.proxyra.it.redeploy;

import java.io.PrintWriter;
import java.util.Set;

import javax.security.auth.Subject;

import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;

/** The control adapter's connection definition: it has one, as proxyra has, and hands out nothing. */
public class ControlConnectionFactory implements ManagedConnectionFactory {
    private static final long serialVersionUID = 1L;
    private String name;
    private transient PrintWriter logWriter;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    @Override
    public Object createConnectionFactory(ConnectionManager manager) throws ResourceException {
        throw new NotSupportedException("control adapter");
    }

    @Override
    public Object createConnectionFactory() throws ResourceException {
        throw new NotSupportedException("control adapter");
    }

    @Override
    public ManagedConnection createManagedConnection(Subject subject, ConnectionRequestInfo info)
            throws ResourceException {
        throw new NotSupportedException("control adapter");
    }

    @Override
    @SuppressWarnings("rawtypes")
    public ManagedConnection matchManagedConnections(Set connections, Subject subject, ConnectionRequestInfo info) {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
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
