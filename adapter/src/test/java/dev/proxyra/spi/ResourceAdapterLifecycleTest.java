package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.resource.spi.ManagedConnection;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.Factories;
import dev.proxyra.testing.PostgresExtension;
import dev.proxyra.testing.Sessions;

@ExtendWith(PostgresExtension.class)
class ResourceAdapterLifecycleTest {

    /** A server's connection manager as far as binding the DataSource goes: nothing is allocated through it. */
    private static final jakarta.resource.spi.ConnectionManager BINDING_ONLY = (factory, info) -> {
        throw new UnsupportedOperationException();
    };

    private static Set<Thread> ucpThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("UCP"))
                .collect(Collectors.toSet());
    }

    @Test
    void stopClosesEveryPoolAndLeavesNoSession(Database db) throws Exception {
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ra.start(null);
        ProxyraManagedConnectionFactory first = Factories.on(db).resourceAdapter(ra).build();
        ProxyraManagedConnectionFactory second = Factories.on(db).maxPoolSize(3).resourceAdapter(ra).build();

        for (ProxyraManagedConnectionFactory mcf : new ProxyraManagedConnectionFactory[] {first, second}) {
            ManagedConnection mc = mcf.createManagedConnection(null, null);
            try (Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")))) {
                assertThat(Sessions.currentUser(c)).isEqualTo("alice");
            }
            mc.cleanup();
            mc.destroy();
        }
        assertThat(ra.pools().pools()).hasSize(2);
        assertThat(ucpThreads()).isNotEmpty();
        assertThat(db.proxySessions()).isEqualTo(2);

        ra.stop();
        assertThat(db.proxySessionsGone(java.time.Duration.ofSeconds(30))).as("no proxy session left").isTrue();
        assertThat(ra.pools().pools()).isEmpty();
        assertThatThrownBy(() -> first.createManagedConnection(null, null))
                .hasMessageContaining("resource adapter is stopped");
        // UCP's worker and timer threads end with its last pool; join gives them a bounded time to finish.
        for (Thread t : ucpThreads()) {
            t.join(10_000);
        }
        assertThat(ucpThreads()).extracting(Thread::getName).isEmpty();
    }

    /** WildFly binds the connection factory, which opens its pool, before it starts the adapter. */
    @Test
    void poolsOpenedBeforeTheAdapterStartsAreClosedWhenItStops(Database db) throws Exception {
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ProxyraManagedConnectionFactory mcf = Factories.on(db).resourceAdapter(ra).build();
        mcf.createConnectionFactory(BINDING_ONLY);
        ra.start(null);
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        try (Connection c = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")))) {
            assertThat(Sessions.currentUser(c)).isEqualTo("alice");
        }
        mc.cleanup();
        mc.destroy();
        var pool = mcf.pool();
        assertThat(ra.pools().pools()).containsExactly(pool);

        ra.stop();
        assertThat(pool.isClosed()).isTrue();
        assertThat(db.proxySessionsGone(java.time.Duration.ofSeconds(30))).as("no proxy session left").isTrue();
    }

    /** A pool retired by a changed property while a session is lent out still closes when the adapter stops. */
    @Test
    void aRetiredPoolWithASessionLentOutClosesWhenTheAdapterStops(Database db) throws Exception {
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ra.start(null);
        ProxyraManagedConnectionFactory mcf = Factories.on(db).resourceAdapter(ra).build();
        ManagedConnection mc = mcf.createManagedConnection(null, null);
        Connection lent = (Connection) mc.getConnection(null, new IdentityRequest(DbIdentity.of("alice", "alice")));
        assertThat(Sessions.currentUser(lent)).isEqualTo("alice");
        var pool = mcf.pool();
        mcf.setMaxPoolSize(3); // retires the pool; it waits for the lent session
        assertThat(ra.pools().pools()).doesNotContain(pool);
        assertThat(db.proxySessions()).isEqualTo(1);

        ra.stop();
        assertThat(db.proxySessionsGone(java.time.Duration.ofSeconds(30))).as("no proxy session left").isTrue();
        assertThatThrownBy(lent::createStatement).isInstanceOf(SQLException.class);
    }

    /** A factory bound before it is associated with the adapter opens no pool the adapter would not close. */
    @Test
    void anUnassociatedManagedFactoryOpensNoPoolUntilItIsUsed(Database db) throws Exception {
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ra.start(null);
        ProxyraManagedConnectionFactory mcf = Factories.on(db).build();
        mcf.createConnectionFactory(BINDING_ONLY);
        mcf.setResourceAdapter(ra);
        mcf.createManagedConnection(null, null).destroy();
        assertThat(ra.pools().pools()).hasSize(1);
        var pool = ra.pools().pools().get(0);
        ra.stop();
        assertThat(pool.isClosed()).isTrue();
    }

    @Test
    void equalConfigurationsShareOnePoolAndEqualFactories(Database db) throws SQLException {
        ProxyraResourceAdapter ra = new ProxyraResourceAdapter();
        ra.start(null);
        try {
            ProxyraManagedConnectionFactory a = Factories.on(db).build();
            ProxyraManagedConnectionFactory b = Factories.on(db).build();
            a.setResourceAdapter(ra);
            b.setResourceAdapter(ra);
            assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
            assertThat(a.pool()).isSameAs(b.pool());
            b.setMaxPoolSize(4);
            assertThat(a).isNotEqualTo(b);
            assertThat(a.pool()).isNotSameAs(b.pool());
        } finally {
            ra.stop();
        }
    }

    @Test
    void transactionSupportIsNeverNull() {
        assertThat(new ProxyraManagedConnectionFactory().getTransactionSupport())
                .isEqualTo(jakarta.resource.spi.TransactionSupport.TransactionSupportLevel.LocalTransaction);
    }
}
