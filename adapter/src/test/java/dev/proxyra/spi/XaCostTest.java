package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Locale;

import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.testing.Adapters;
import dev.proxyra.testing.EmbeddedDatabase;
import dev.proxyra.testing.PostgresExtension;

/**
 * What XA costs per request on the embedded PostgreSQL, one caller, one managed connection, as a server drives it:
 * a local transaction (LocalTransaction begin, one insert, commit), an XA branch committed in one phase, and one
 * prepared and committed (PREPARE TRANSACTION, COMMIT PREPARED on the same session). Rounds interleave the three, so
 * that the machine's noise hits them alike. Prints the medians; asserts only that each request's work was committed.
 */
@ExtendWith(PostgresExtension.class)
class XaCostTest {
    private static final int REQUESTS = 600;
    private static final int ROUNDS = 3;
    private ProxyraManagedConnectionFactory mcf;

    @AfterEach
    void tearDown(EmbeddedDatabase db) throws Exception {
        mcf.close();
        db.execute("DROP TABLE IF EXISTS xa_cost");
    }

    enum Kind { LOCAL, XA_ONE_PHASE, XA_TWO_PHASE }

    @Test
    void medianMicrosecondsPerRequestLocalAndXa(EmbeddedDatabase db) throws Exception {
        db.execute("DROP TABLE IF EXISTS xa_cost; CREATE TABLE xa_cost (n int); GRANT INSERT ON xa_cost TO callers");
        mcf = Adapters.factory(db);
        mcf.setTransactionSupport("XATransaction");
        ProxyraManagedConnection mc = (ProxyraManagedConnection) mcf.createManagedConnection(null, null);
        long[][] nanos = new long[Kind.values().length][REQUESTS];
        int per = REQUESTS / ROUNDS;
        for (Kind k : Kind.values()) {
            requests(mc, k, new long[per]); // warm up JIT and server
        }
        for (int round = 0; round < ROUNDS; round++) {
            for (Kind k : Kind.values()) {
                long[] r = new long[per];
                requests(mc, k, r);
                System.arraycopy(r, 0, nanos[k.ordinal()], round * per, per);
            }
        }
        double local = median(nanos[0]);
        double onePhase = median(nanos[1]);
        double twoPhase = median(nanos[2]);
        System.out.printf(Locale.ROOT, "per request over %d requests (one insert, committed): local %.1f µs,"
                + " XA one-phase %.1f µs (x%.2f), XA two-phase %.1f µs (x%.2f)%n", REQUESTS, local, onePhase,
                onePhase / local, twoPhase, twoPhase / local);
        mc.destroy();
        assertThat(db.queryInt("select count(*) from xa_cost")).isEqualTo((REQUESTS + per) * Kind.values().length);
        assertThat(db.queryInt("select count(*) from pg_prepared_xacts")).isZero();
    }

    private int sequence;

    private void requests(ProxyraManagedConnection mc, Kind kind, long[] nanos) throws Exception {
        XAResource xa = mc.getXAResource();
        for (int i = 0; i < nanos.length; i++) {
            long start = System.nanoTime();
            Xid xid = kind == Kind.LOCAL ? null : XaTransactionTest.newXid();
            if (kind == Kind.LOCAL) {
                mc.getLocalTransaction().begin();
            } else {
                xa.start(xid, XAResource.TMNOFLAGS);
            }
            try (Connection c = (ConnectionHandle) mc.getConnection(null, mcf.requestFor(DbIdentity.of("alice", "alice")));
                 Statement s = c.createStatement()) {
                s.executeUpdate("insert into xa_cost values (" + sequence++ + ")");
            }
            switch (kind) {
                case LOCAL -> mc.getLocalTransaction().commit();
                case XA_ONE_PHASE -> {
                    xa.end(xid, XAResource.TMSUCCESS);
                    xa.commit(xid, true);
                }
                case XA_TWO_PHASE -> {
                    xa.end(xid, XAResource.TMSUCCESS);
                    if (xa.prepare(xid) != XAResource.XA_OK) {
                        throw new AssertionError("not prepared");
                    }
                    xa.commit(xid, false);
                }
            }
            mc.cleanup();
            nanos[i] = System.nanoTime() - start;
        }
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1000.0;
    }
}
