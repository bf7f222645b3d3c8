package dev.proxyra.dialect;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.lang.ref.WeakReference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import org.postgresql.copy.CopyDual;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOperation;
import org.postgresql.copy.CopyOut;
import org.postgresql.core.BaseConnection;
import org.postgresql.util.ByteStreamWriter;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import dev.proxyra.SqlState;

/**
 * pgjdbc's COPY API bound to a connection handle: every call first checks that the handle is still open,
 * so a CopyManager (or a CopyIn/CopyOut in progress) kept past close() cannot run COPY on a session that
 * meanwhile serves another caller.
 *
 * <p>While a COPY runs, pgjdbc locks its connection for that operation: every other call on the connection
 * (a query, isValid, the next borrower's switch) waits, without limit, until the operation ends. So the COPY
 * each connection started last is remembered, and a return ends it ({@link #endStarted}) before the session
 * serves anyone again. Ended, the operation no longer holds the lock, and pgjdbc refuses every later call on it
 * ("inactive copy operation"): a CopyIn or CopyOut the application kept cannot write to or read from the next
 * caller's COPY, which is another operation.
 */
final class PostgresCopy extends CopyManager {
    /**
     * The COPY each physical connection started last through proxyra: at most one holds the driver's lock at a
     * time. Weak keys, so a connection closed by the pool is forgotten; weak values, since a running COPY stays
     * reachable from its connection anyway (the driver's lock refers to it) and a finished one needs no ending.
     */
    private static final Map<BaseConnection, WeakReference<CopyOperation>> STARTED =
            Collections.synchronizedMap(new WeakHashMap<>());

    private final BaseConnection connection;
    private final Dialect.HandleGuard guard;

    private PostgresCopy(BaseConnection connection, Dialect.HandleGuard guard) throws SQLException {
        super(connection);
        this.connection = connection;
        this.guard = guard;
    }

    /**
     * Ends the COPY the application started on {@code connection} and left running, if any; the deadline bounds
     * the output still to be read after a COPY TO STDOUT is cancelled. Throws when it could not be ended: the
     * session must then be discarded (closing it does not need the driver's lock).
     */
    static void endStarted(BaseConnection connection, long deadlineNanos) throws SQLException {
        WeakReference<CopyOperation> started = STARTED.remove(connection);
        CopyOperation operation = started == null ? null : started.get();
        if (operation != null && operation.isActive()) {
            end(connection, operation, deadlineNanos);
        }
    }

    /**
     * Ends a running COPY without finishing it. COPY FROM STDIN (and a two-way COPY): pgjdbc's cancelCopy sends
     * CopyFail and reads the server's answer up to ReadyForQuery. COPY TO STDOUT: pgjdbc's cancelCopy only sends
     * a cancel request and gives up its lock with the rest of the output still unread, so the next statement
     * would take that output for its own answer. Here the cancel request is sent (pgjdbc waits until the server
     * has taken it) and the output is read to its end, which the cancel brings near; a cancel that comes after
     * the COPY finished finds the backend waiting for a command and is ignored.
     */
    private static void end(BaseConnection connection, CopyOperation operation, long deadlineNanos)
            throws SQLException {
        if (operation instanceof CopyIn) {
            operation.cancelCopy();
            return;
        }
        connection.cancelQuery();
        CopyOut out = (CopyOut) operation;
        while (out.isActive()) {
            if (System.nanoTime() - deadlineNanos > 0) {
                throw new SQLException("proxyra: a cancelled COPY TO STDOUT was still sending when its time was up",
                        SqlState.QUERY_CANCELED);
            }
            try {
                out.readFromCopy(true);
            } catch (SQLException cancelled) {
                if (out.isActive()) {
                    throw cancelled;
                }
                // the server's answer to the cancel request (57014): the COPY is over
            }
        }
    }

    /** Starts a COPY as pgjdbc's CopyManager does, remembering it; the wrong kind is ended before the refusal. */
    private <T extends CopyOperation> T start(Class<T> kind, String sql) throws SQLException {
        CopyOperation operation = connection.getQueryExecutor().startCopy(sql, connection.getAutoCommit());
        if (operation == null) {
            return null;
        }
        STARTED.put(connection, new WeakReference<>(operation));
        if (kind.isInstance(operation)) {
            return kind.cast(operation);
        }
        end(connection, operation, Long.MAX_VALUE);
        throw new PSQLException("Requested " + kind.getSimpleName() + " but got " + operation.getClass().getName(),
                PSQLState.WRONG_OBJECT_TYPE);
    }

    static Object bind(Object result, Object vendorConnection, Dialect.HandleGuard guard) throws SQLException {
        return result instanceof CopyManager ? new PostgresCopy((BaseConnection) vendorConnection, guard) : result;
    }

    @Override
    public CopyIn copyIn(String sql) throws SQLException {
        guard.check();
        return bound(CopyIn.class, start(CopyIn.class, sql));
    }

    @Override
    public CopyOut copyOut(String sql) throws SQLException {
        guard.check();
        return bound(CopyOut.class, start(CopyOut.class, sql));
    }

    @Override
    public CopyDual copyDual(String sql) throws SQLException {
        guard.check();
        return bound(CopyDual.class, start(CopyDual.class, sql));
    }

    @Override
    public long copyOut(String sql, Writer to) throws SQLException, IOException {
        guard.check();
        return super.copyOut(sql, to);
    }

    @Override
    public long copyOut(String sql, OutputStream to) throws SQLException, IOException {
        guard.check();
        return super.copyOut(sql, to);
    }

    @Override
    public long copyIn(String sql, Reader from) throws SQLException, IOException {
        guard.check();
        return super.copyIn(sql, from);
    }

    @Override
    public long copyIn(String sql, Reader from, int bufferSize) throws SQLException, IOException {
        guard.check();
        return super.copyIn(sql, from, bufferSize);
    }

    @Override
    public long copyIn(String sql, InputStream from) throws SQLException, IOException {
        guard.check();
        return super.copyIn(sql, from);
    }

    @Override
    public long copyIn(String sql, InputStream from, int bufferSize) throws SQLException, IOException {
        guard.check();
        return super.copyIn(sql, from, bufferSize);
    }

    @Override
    public long copyIn(String sql, ByteStreamWriter from) throws SQLException, IOException {
        guard.check();
        return super.copyIn(sql, from);
    }

    /**
     * A COPY operation in progress whose every call checks the handle first; its cancelCopy ends a COPY TO STDOUT
     * as a return does (pgjdbc's own, also called by CopyManager's copyOut(sql, Writer), would leave its output
     * for the next statement).
     */
    private <T extends CopyOperation> T bound(Class<T> type, T operation) {
        if (operation == null) {
            return null;
        }
        return type.cast(Proxy.newProxyInstance(PostgresCopy.class.getClassLoader(), new Class<?>[] {type},
                (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return switch (method.getName()) {
                            case "equals" -> proxy == args[0];
                            case "hashCode" -> System.identityHashCode(proxy);
                            default -> "proxyra " + type.getSimpleName();
                        };
                    }
                    guard.check();
                    if (method.getName().equals("cancelCopy") && operation.isActive()) {
                        end(connection, operation, Long.MAX_VALUE);
                        return null;
                    }
                    try {
                        return method.invoke(operation, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
    }
}
