package dev.proxyra.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;

/** Records the connection events a managed connection sends, as an application server would receive them. */
public final class RecordingListener implements ConnectionEventListener {
    public final List<ConnectionEvent> events = new CopyOnWriteArrayList<>();

    public List<Integer> ids() {
        return events.stream().map(ConnectionEvent::getId).toList();
    }

    @Override
    public void connectionClosed(ConnectionEvent event) {
        events.add(event);
    }

    @Override
    public void localTransactionStarted(ConnectionEvent event) {
        events.add(event);
    }

    @Override
    public void localTransactionCommitted(ConnectionEvent event) {
        events.add(event);
    }

    @Override
    public void localTransactionRolledback(ConnectionEvent event) {
        events.add(event);
    }

    @Override
    public void connectionErrorOccurred(ConnectionEvent event) {
        events.add(event);
    }
}
