package dev.proxyra.jdbc;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The application's view of a Statement, PreparedStatement, CallableStatement, ResultSet or
 * DatabaseMetaData: every call is checked against closed handles, every SQLException goes through the
 * owner's fatal-error funnel, child objects are wrapped and closed with their parent, and
 * {@code getConnection()} / {@code getStatement()} return handles, never physical objects. These
 * interfaces are large and hold no proxyra logic beyond that, so one proxy serves them all.
 */
final class JdbcProxy implements InvocationHandler {
    private static final ClassValue<Constructor<?>> CONSTRUCTORS = new ClassValue<>() {
        @Override
        @SuppressWarnings("deprecation")
        protected Constructor<?> computeValue(Class<?> type) {
            try {
                return Proxy.getProxyClass(JdbcProxy.class.getClassLoader(), type)
                        .getConstructor(InvocationHandler.class);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    private final Class<?> type;
    private final Object delegate;
    private final ConnectionHandle connection;
    private final JdbcProxy parent;
    private Object self;
    private List<JdbcProxy> children;
    private volatile boolean closed;

    private JdbcProxy(Class<?> type, Object delegate, ConnectionHandle connection, JdbcProxy parent) {
        this.type = type;
        this.delegate = delegate;
        this.connection = connection;
        this.parent = parent;
    }

    /** Wraps {@code delegate} as {@code type}; {@code parent} is the statement or metadata it came from. */
    static <T> T wrap(Class<T> type, T delegate, ConnectionHandle connection, JdbcProxy parent) {
        JdbcProxy handler = new JdbcProxy(type, delegate, connection, parent);
        try {
            handler.self = CONSTRUCTORS.get(type).newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        if (parent != null) {
            parent.adopt(handler);
        }
        return type.cast(handler.self);
    }

    static JdbcProxy handlerOf(Object proxy) {
        return (JdbcProxy) Proxy.getInvocationHandler(proxy);
    }

    private synchronized void adopt(JdbcProxy child) {
        if (children == null) {
            children = new ArrayList<>(2);
        }
        children.add(child);
    }

    private synchronized void forget(JdbcProxy child) {
        if (children != null) {
            children.remove(child);
        }
    }

    /** Closes this object and its children; with {@code physicalToo} the driver object as well. */
    void close(boolean physicalToo) {
        if (closed) {
            return;
        }
        closed = true;
        List<JdbcProxy> kids;
        synchronized (this) {
            kids = children == null ? List.of() : new ArrayList<>(children);
            children = null;
        }
        for (JdbcProxy child : kids) {
            child.close(physicalToo);
        }
        if (physicalToo && delegate instanceof AutoCloseable closeable && !(delegate instanceof DatabaseMetaData)) {
            try {
                closeable.close();
            } catch (Exception e) {
                // closing quietly on cleanup: the physical connection is validated before reuse
            }
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return switch (name) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "proxyra " + type.getSimpleName() + (closed ? " (closed)" : "");
            };
        }
        switch (name) {
            case "close" -> {
                if (!closed) {
                    close(false);
                    if (parent != null) {
                        parent.forget(this);
                    } else {
                        connection.forget(this);
                    }
                    if (!(delegate instanceof DatabaseMetaData)) {
                        try {
                            ((AutoCloseable) delegate).close();
                        } catch (SQLException e) {
                            throw connection.owner().checkException(e);
                        }
                    }
                }
                return null;
            }
            case "isClosed" -> {
                if (closed || connection.isClosed()) {
                    return true;
                }
                return invokeDelegate(method, args);
            }
            default -> {
            }
        }
        if (closed || connection.isClosed()) {
            throw ConnectionHandle.closedException(type.getSimpleName());
        }
        switch (name) {
            case "getConnection":
                if (args == null) {
                    return connection;
                }
                break;
            case "getStatement":
                if (args == null && delegate instanceof ResultSet) {
                    return parent != null && parent.self instanceof Statement ? parent.self : null;
                }
                break;
            case "unwrap":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return proxy;
                }
                break;
            case "isWrapperFor":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return true;
                }
                break;
            case "execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch":
                if (args != null && args.length > 0 && args[0] instanceof String sql) {
                    connection.owner().sqlSeen(sql);
                }
                break;
            default:
                break;
        }
        Object result = invokeDelegate(method, args);
        return wrapResult(method.getReturnType(), result);
    }

    private Object invokeDelegate(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw connection.owner().checkException(sql);
            }
            throw cause;
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object wrapResult(Class<?> returnType, Object result) {
        if (result == null || result == self) {
            return result;
        }
        if (returnType == ResultSet.class || returnType == Statement.class || returnType == PreparedStatement.class
                || returnType == CallableStatement.class) {
            return wrap((Class) returnType, result, connection, this);
        }
        return result;
    }
}
