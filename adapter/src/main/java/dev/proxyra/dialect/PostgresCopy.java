package dev.proxyra.dialect;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;

import org.postgresql.copy.CopyDual;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.postgresql.core.BaseConnection;
import org.postgresql.util.ByteStreamWriter;

/**
 * pgjdbc's COPY API bound to a connection handle: every call first checks that the handle is still open,
 * so a CopyManager (or a CopyIn/CopyOut in progress) kept past close() cannot run COPY on a session that
 * meanwhile serves another caller.
 */
final class PostgresCopy extends CopyManager {
    private final Dialect.HandleGuard guard;

    private PostgresCopy(BaseConnection connection, Dialect.HandleGuard guard) throws SQLException {
        super(connection);
        this.guard = guard;
    }

    static Object bind(Object result, Object vendorConnection, Dialect.HandleGuard guard) throws SQLException {
        return result instanceof CopyManager ? new PostgresCopy((BaseConnection) vendorConnection, guard) : result;
    }

    @Override
    public CopyIn copyIn(String sql) throws SQLException {
        guard.check();
        return bound(CopyIn.class, super.copyIn(sql));
    }

    @Override
    public CopyOut copyOut(String sql) throws SQLException {
        guard.check();
        return bound(CopyOut.class, super.copyOut(sql));
    }

    @Override
    public CopyDual copyDual(String sql) throws SQLException {
        guard.check();
        return bound(CopyDual.class, super.copyDual(sql));
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

    /** A COPY operation in progress whose every call checks the handle first. */
    private <T> T bound(Class<T> type, T operation) {
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
                    try {
                        return method.invoke(operation, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
    }
}
