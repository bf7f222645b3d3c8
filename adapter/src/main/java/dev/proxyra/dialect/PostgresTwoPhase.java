package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import javax.transaction.xa.Xid;

import dev.proxyra.SqlState;

/**
 * PostgreSQL's two-phase commit as proxyra's XAResource runs it: branch names (gids) in pgjdbc's format, so that
 * branches prepared by pgjdbc's PGXAConnection and by proxyra are one set to a transaction manager, and the SQL
 * around {@code pg_prepared_xacts}. Every gid reaching SQL is built here from the xid's bytes.
 */
public final class PostgresTwoPhase {
    /** PostgreSQL's limit on a gid (GIDSIZE - 1); an xid's parts are at most 64 bytes each, which stays below it. */
    static final int MAX_GID_LENGTH = 199;

    private PostgresTwoPhase() {
    }

    /** pgjdbc's gid of {@code xid}: {@code formatId_base64(gtrid)_base64(bqual)} (standard alphabet, padded). */
    public static String gid(Xid xid) {
        Base64.Encoder b64 = Base64.getEncoder();
        return xid.getFormatId() + "_" + b64.encodeToString(xid.getGlobalTransactionId()) + "_"
                + b64.encodeToString(xid.getBranchQualifier());
    }

    /** The xid a gid names, or null for a gid not in pgjdbc's format (a PREPARE TRANSACTION of someone else's). */
    public static Xid xid(String gid) {
        int first = gid.indexOf('_');
        int last = gid.lastIndexOf('_');
        if (first <= 0 || first == last) {
            return null;
        }
        try {
            int formatId = Integer.parseInt(gid.substring(0, first));
            Base64.Decoder b64 = Base64.getDecoder();
            byte[] gtrid = b64.decode(gid.substring(first + 1, last));
            byte[] bqual = b64.decode(gid.substring(last + 1));
            if (gtrid.length > Xid.MAXGTRIDSIZE || bqual.length > Xid.MAXBQUALSIZE) {
                return null;
            }
            return new BranchXid(formatId, gtrid, bqual);
        } catch (IllegalArgumentException notOurs) {
            return null;
        }
    }

    /**
     * {@code gid} as an SQL string literal. A gid of {@link #gid} holds only digits, '-', '_' and base64's
     * letters, '+', '/' and '='; anything else is refused rather than quoted, so no xid a caller or a transaction
     * manager makes up can end the literal.
     */
    static String literal(String gid) {
        if (gid.length() > MAX_GID_LENGTH || !gid.matches("-?[0-9]+_[A-Za-z0-9+/=]*_[A-Za-z0-9+/=]*")) {
            throw new IllegalArgumentException("proxyra: not a transaction branch name of proxyra: " + gid.length()
                    + " characters");
        }
        return "'" + gid + "'";
    }

    /** The transaction's id (xid8) as text, or null when it has none yet: sent with the PREPARE, in its round trip. */
    public static final String XACT_ID_SQL = "SELECT pg_catalog.pg_current_xact_id_if_assigned()::text";

    /**
     * How the transaction {@code xact} (an xid8 from {@link #XACT_ID_SQL}) ended: committed, aborted, in progress, or
     * null when the database no longer knows.
     */
    public static String transactionStatus(java.sql.Connection c, String xact) throws java.sql.SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT pg_catalog.pg_xact_status(pg_catalog.xid8in(?::cstring))")) {
            ps.setString(1, xact);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    public static String prepareSql(Xid xid) {
        return "PREPARE TRANSACTION " + literal(gid(xid));
    }

    /** COMMIT PREPARED or ROLLBACK PREPARED: a statement of its own (PostgreSQL refuses it in a multi-statement query). */
    public static String finishSql(String gid, boolean commit) {
        return (commit ? "COMMIT PREPARED " : "ROLLBACK PREPARED ") + literal(gid);
    }

    /**
     * Refuses a database where PREPARE TRANSACTION cannot run: an XA pool there would fail every prepare after the
     * work was done, when the transaction manager can only roll back.
     */
    public static void checkEnabled(Connection physical) throws SQLException {
        try (Statement s = physical.createStatement();
             ResultSet rs = s.executeQuery("select current_setting('max_prepared_transactions')::int")) {
            rs.next();
            if (rs.getInt(1) <= 0) {
                throw new SQLException("proxyra: TransactionSupportLevel=XATransaction needs PostgreSQL's"
                        + " max_prepared_transactions above 0 (it is " + rs.getInt(1) + "): set it in postgresql.conf"
                        + " (at least the number of connections that may hold a prepared branch at once, e.g. its"
                        + " max_connections) and restart the server, or use TransactionSupportLevel=LocalTransaction", SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE);
            }
        }
    }

    /** A prepared branch of this database as pg_prepared_xacts shows it to the proxy account. */
    public record InDoubt(String gid, String owner, boolean ownerIsLoginRole, boolean loginRoleIsMember) {
        /** The owner role was dropped after PREPARE: only a superuser can finish the branch. */
        public boolean ownerDropped() {
            return owner == null;
        }

        /** What an operator runs, as a superuser or as the owner, to finish the branch by hand. */
        public String operatorSql(boolean commit) {
            return finishSql(gid, commit);
        }
    }

    private static final String IN_DOUBT = "select gid, owner, owner = session_user,"
            + " coalesce(pg_has_role(session_user, owner, 'MEMBER'), false) from pg_prepared_xacts"
            + " where database = current_database()";

    /** The branch named {@code gid} in this database, or null when it is not (or no longer) prepared. */
    public static InDoubt inDoubt(Connection physical, String gid) throws SQLException {
        try (PreparedStatement ps = physical.prepareStatement(IN_DOUBT + " and gid = ?")) {
            ps.setString(1, gid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? row(rs) : null;
            }
        }
    }

    /** Every prepared branch of this database, whoever owns it, oldest first. */
    public static List<InDoubt> inDoubt(Connection physical) throws SQLException {
        List<InDoubt> all = new ArrayList<>();
        try (Statement s = physical.createStatement(); ResultSet rs = s.executeQuery(IN_DOUBT + " order by prepared")) {
            while (rs.next()) {
                all.add(row(rs));
            }
        }
        return all;
    }

    private static InDoubt row(ResultSet rs) throws SQLException {
        return new InDoubt(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4));
    }

    /**
     * Whether the server has transaction_timeout (PostgreSQL 17), read from the version the driver got at login
     * (no round trip).
     */
    public static boolean hasTransactionTimeout(Connection physical) throws SQLException {
        return physical.getMetaData().getDatabaseMajorVersion() >= 17;
    }

    /** An xid read back from a gid. */
    record BranchXid(int formatId, byte[] gtrid, byte[] bqual) implements Xid {
        @Override
        public int getFormatId() {
            return formatId;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return gtrid.clone();
        }

        @Override
        public byte[] getBranchQualifier() {
            return bqual.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Xid x && x.getFormatId() == formatId && Arrays.equals(x.getGlobalTransactionId(), gtrid)
                    && Arrays.equals(x.getBranchQualifier(), bqual);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * formatId + Arrays.hashCode(gtrid)) + Arrays.hashCode(bqual);
        }

        @Override
        public String toString() {
            return gid(this);
        }
    }

    /** A private copy of a transaction manager's xid (its arrays may be reused), equal to any xid with the same parts. */
    public static Xid copyOf(Xid xid) {
        return new BranchXid(xid.getFormatId(), xid.getGlobalTransactionId().clone(), xid.getBranchQualifier().clone());
    }
}
