package dev.proxyra.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import javax.transaction.xa.Xid;

import dev.proxyra.dialect.PostgresTwoPhase;
import dev.proxyra.identity.DbIdentity;
import dev.proxyra.jdbc.ConnectionHandle;
import dev.proxyra.spi.ProxyraManagedConnection;
import dev.proxyra.spi.ProxyraManagedConnectionFactory;

/** What the XA tests do as a server and a transaction manager would: handles on a managed connection, branch ids. */
public final class XaBranches {
    private XaBranches() {
    }

    /** A branch id as a transaction manager makes one. */
    public record TestXid(int formatId, byte[] gtrid, byte[] bqual) implements Xid {
        /** {@code formatId}, the global id {@code id} in 8 bytes, branch qualifier 1. */
        public static TestXid of(int formatId, long id) {
            return new TestXid(formatId, java.nio.ByteBuffer.allocate(8).putLong(id).array(), new byte[] {1});
        }

        @Override
        public int getFormatId() {
            return formatId;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return gtrid;
        }

        @Override
        public byte[] getBranchQualifier() {
            return bqual;
        }
    }

    /** A handle on {@code mc} for {@code caller} (database user of the same name); its refusal thrown. */
    public static Connection handleAs(ProxyraManagedConnectionFactory mcf, ProxyraManagedConnection mc, String caller)
            throws Exception {
        ConnectionHandle handle = (ConnectionHandle) mc.getConnection(null,
                mcf.requestFor(DbIdentity.of(caller, caller)));
        if (handle.refusal() != null) {
            throw handle.refusal();
        }
        return handle;
    }

    /** Owner of the prepared branch, as the superuser sees pg_prepared_xacts; null when there is none. */
    public static String preparedOwner(Database db, Xid xid) throws SQLException {
        try (Connection su = db.superuser(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("select owner from pg_prepared_xacts where gid = '"
                     + PostgresTwoPhase.gid(xid) + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
