package dev.proxyra.jdbc;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.Ref;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLXML;
import java.sql.Statement;
import java.sql.Struct;
import java.sql.Wrapper;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.proxyra.SqlState;
import dev.proxyra.dialect.Dialect;

/**
 * The application's view of every JDBC object below a connection handle: statements, result sets
 * (including ref cursors and other results of {@code getObject}), database, result set and parameter metadata,
 * arrays, LOBs and their streams, structs and refs, and the driver interfaces a handle may be unwrapped to.
 * Every call is counted in flight on the handle for as long as it runs (entering fails once the handle is
 * closed, and a handle closed under a running call has its session discarded), every SQLException of an open
 * handle goes through the owner's fatal-error funnel, every JDBC object or stream a call returns is
 * wrapped in turn (by what it is, not by the declared return type), and anything that would lead to the
 * physical connection leads to the handle instead. Wrappers of objects JDBC reports closed are released as
 * new ones are added, so a long-lived statement does not accumulate them. These interfaces are large and
 * hold no proxyra logic beyond that, so one proxy serves them all.
 */
final class JdbcProxy implements InvocationHandler, GuardedStreams.Guard {
    /**
     * Proxy constructors by interface. Held by this class, i.e. by the adapter's class loader only: a
     * ClassValue on the java.sql interfaces would store them in the JDK's own classes and keep the adapter's
     * loader reachable after undeploy.
     */
    private static final Map<List<Class<?>>, Constructor<?>> CONSTRUCTORS = new ConcurrentHashMap<>();

    /** JDBC types that reach the connection, most specific first: results of these types are wrapped. */
    private static final Class<?>[] WRAPPED = {CallableStatement.class, PreparedStatement.class, Statement.class,
        ResultSet.class, DatabaseMetaData.class, ResultSetMetaData.class, ParameterMetaData.class, NClob.class,
        Clob.class, Blob.class, Array.class, SQLXML.class, Struct.class, Ref.class};

    /**
     * What getString, getInt, getTimestamp, getObject and their kind return most of the time, recognised by exact class
     * before any scan of the JDBC interfaces (which cost several hundred nanoseconds per getXxx: see
     * docs/benchmarks/wrappers.md). Each is a JDK class that implements no JDBC interface, is no stream and holds no
     * reference to a connection (PlainValueFastPathTest checks this), so there is nothing to wrap. An exact match
     * cannot be a driver's subclass (of java.sql.Timestamp, say), which takes the scan as before.
     */
    private static final java.util.Set<Class<?>> PLAIN_VALUES = java.util.Set.of(String.class, Integer.class,
            Long.class, Short.class, Byte.class, Boolean.class, Double.class, Float.class, Character.class,
            java.math.BigDecimal.class, java.math.BigInteger.class, byte[].class, java.util.UUID.class,
            java.sql.Timestamp.class, java.sql.Date.class, java.sql.Time.class,
            java.time.LocalDate.class, java.time.LocalTime.class, java.time.LocalDateTime.class,
            java.time.OffsetDateTime.class, java.time.OffsetTime.class, java.time.Instant.class);

    /** Whether {@code type} is a plain value: returned as it is, with no scan. */
    static boolean isPlainValue(Class<?> type) {
        return PLAIN_VALUES.contains(type);
    }

    /** The plain value classes, for the test of the fast path. */
    static java.util.Set<Class<?>> plainValues() {
        return PLAIN_VALUES;
    }

    /**
     * Values valid for their transaction rather than their statement (JDBC), and descriptions of a statement's
     * columns and parameters (which drivers answer from the catalogue, on the connection, however long after):
     * they are not closed with the object they came from and need no tracking, since every call checks the handle
     * anyway.
     */
    private static boolean isValueObject(Class<?> type) {
        return type == NClob.class || type == Clob.class || type == Blob.class || type == Array.class
                || type == SQLXML.class || type == Struct.class || type == Ref.class
                || type == ResultSetMetaData.class || type == ParameterMetaData.class;
    }

    private final Class<?> type;
    private final Object delegate;
    private final ConnectionHandle connection;
    private final Children owner;
    private final Dialect.VendorInterface vendor;
    private Object self;
    private final Children children = new Children(this);
    /** The handle's session when this object was made: a handle moved to another session leaves it behind. */
    private final int generation;
    private volatile boolean closed;

    private JdbcProxy(Class<?> type, Object delegate, ConnectionHandle connection, Children owner,
                      Dialect.VendorInterface vendor) {
        this.type = type;
        this.delegate = delegate;
        this.connection = connection;
        this.owner = owner;
        this.vendor = vendor;
        this.generation = connection.generation();
    }

    /**
     * Wraps {@code delegate} as {@code type}, owned by (closed with) {@code owner}, one wrapper per open delegate;
     * LOBs, arrays, structs and refs are not owned by anything but their handle.
     */
    static <T> T wrap(Class<T> type, T delegate, ConnectionHandle connection, Children owner) {
        return type.cast(wrap(type, delegate, connection, owner, null));
    }

    /** A driver interface of the physical connection, limited to what {@code vendor} allows. */
    static Object vendorView(Dialect.VendorInterface vendor, Object delegate, ConnectionHandle connection,
                             Children owner) {
        return wrap(vendor.type(), delegate, connection, owner, vendor);
    }

    private static Object wrap(Class<?> type, Object delegate, ConnectionHandle connection, Children owner,
                               Dialect.VendorInterface vendor) {
        boolean tracked = !isValueObject(type);
        if (tracked) {
            JdbcProxy existing = owner.find(delegate, type);
            if (existing != null) {
                return existing.self;
            }
        }
        JdbcProxy handler = new JdbcProxy(type, delegate, connection, tracked ? owner : Children.NONE, vendor);
        try {
            handler.self = constructor(interfaces(type, delegate, vendor)).newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        if (tracked) {
            owner.add(handler);
        }
        return handler.self;
    }

    /**
     * {@code type}, plus the JDBC type of the object when {@code type} is a driver interface that does not extend
     * it (a statement unwrapped to org.postgresql.PGStatement is still a java.sql.Statement).
     */
    private static List<Class<?>> interfaces(Class<?> type, Object delegate, Dialect.VendorInterface vendor) {
        if (vendor == null) {
            Class<?> jdbc = wrappedType(delegate);
            if (jdbc != null && !jdbc.isAssignableFrom(type)) {
                return List.of(type, jdbc);
            }
        }
        return List.of(type);
    }

    @SuppressWarnings("deprecation")
    private static Constructor<?> constructor(List<Class<?>> interfaces) {
        return CONSTRUCTORS.computeIfAbsent(interfaces, t -> {
            try {
                return Proxy.getProxyClass(JdbcProxy.class.getClassLoader(), t.toArray(new Class<?>[0]))
                        .getConstructor(InvocationHandler.class);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    Object delegate() {
        return delegate;
    }

    Class<?> type() {
        return type;
    }

    /** Whether JDBC reports this object closed, so its wrapper can be released. */
    boolean isDone() {
        if (closed) {
            return true;
        }
        try {
            if (delegate instanceof ResultSet rs) {
                return rs.isClosed();
            }
            if (delegate instanceof Statement s) {
                return s.isClosed();
            }
        } catch (SQLException | RuntimeException e) {
            return false;
        }
        return false;
    }

    /** Closes this object and its children; with {@code physicalToo} the driver object as well. */
    void close(boolean physicalToo) {
        if (closed) {
            return;
        }
        closed = true;
        children.closeAll(physicalToo);
        if (physicalToo && closesWithItsOwner()) {
            try {
                ((AutoCloseable) delegate).close();
            } catch (Exception e) {
                // closing quietly on cleanup: the physical connection is checked before reuse
            }
        }
    }

    /** Statements and result sets belong to the session; the physical connection itself is never closed here. */
    private boolean closesWithItsOwner() {
        return (delegate instanceof Statement || delegate instanceof ResultSet) && vendor == null;
    }

    private void checkOpen() throws SQLException {
        if (closed || connection.isClosed() || connection.generation() != generation) {
            throw ConnectionHandle.closedException(type.getSimpleName());
        }
    }

    /**
     * A refusal or closed-handle error for {@code method}: an SQLException where the method declares one, else
     * (driver methods such as PGConnection.getBackendPID) an unchecked exception carrying the same message.
     */
    private static Throwable declared(Method method, SQLException e) {
        for (Class<?> thrown : method.getExceptionTypes()) {
            if (thrown.isAssignableFrom(SQLException.class)) {
                return e;
            }
        }
        return e instanceof java.sql.SQLFeatureNotSupportedException
                ? new UnsupportedOperationException(e.getMessage(), e) : new IllegalStateException(e.getMessage(), e);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return objectMethod(proxy, name, args, "proxyra " + type.getSimpleName() + (closed ? " (closed)" : ""));
        }
        if (vendor != null && method.getDeclaringClass().isAssignableFrom(Connection.class)) {
            return invokeAsHandle(method, args); // the handle counts these calls itself
        }
        if (!connection.enter()) {
            return switch (name) {
                case "close", "free" -> null;
                case "isClosed" -> Boolean.TRUE;
                default -> throw declared(method, ConnectionHandle.closedException(type.getSimpleName()));
            };
        }
        try {
            if (vendor != null) {
                try {
                    return invokeVendor(method, args);
                } catch (SQLException e) {
                    throw declared(method, e);
                }
            }
            return invokeJdbc(proxy, method, args, name);
        } finally {
            connection.exit();
        }
    }

    /** equals, hashCode and toString of a proxy: identity, and {@code description}. */
    static Object objectMethod(Object proxy, String name, Object[] args, String description) {
        return switch (name) {
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            default -> description;
        };
    }

    /** A call on a JDBC object, counted in flight on the handle. */
    private Object invokeJdbc(Object proxy, Method method, Object[] args, String name) throws Throwable {
        switch (name) {
            case "close" -> {
                if (!closed) {
                    close(false);
                    owner.remove(this);
                    if (closesWithItsOwner()) {
                        try {
                            ((AutoCloseable) delegate).close();
                        } catch (SQLException e) {
                            throw connection.failed(e);
                        }
                    }
                }
                return null;
            }
            case "free" -> {
                if (!closed) {
                    closed = true;
                    owner.remove(this);
                    return invokeDelegate(method, args);
                }
                return null;
            }
            case "isClosed" -> {
                if (closed || connection.isClosed() || connection.generation() != generation) {
                    return true;
                }
                return invokeDelegate(method, args);
            }
            default -> {
            }
        }
        try {
            checkOpen();
        } catch (SQLException e) {
            throw declared(method, e);
        }
        if (connection.metadataOnly() && !(delegate instanceof DatabaseMetaData
                && MetadataOnlyConnection.allowsOnMetaData(method))) {
            // deny by default: a catalogue query, or anything else the metadata of a request without a caller does
            // not need (its wrapper methods answer for its own interfaces only)
            if (name.equals("isWrapperFor")) {
                return ((Class<?>) args[0]).isInstance(proxy);
            }
            if (name.equals("unwrap") && ((Class<?>) args[0]).isInstance(proxy)) {
                return proxy;
            }
            throw declared(method, MetadataOnlyConnection.refusal(type.getSimpleName() + "." + name));
        }
        switch (name) {
            case "getConnection":
                if (args == null) {
                    return connection.face();
                }
                break;
            case "getStatement":
                if (args == null && delegate instanceof ResultSet) {
                    return producingStatement();
                }
                break;
            case "unwrap":
                return unwrap(proxy, (Class<?>) args[0]);
            case "isWrapperFor":
                return isWrapperFor(proxy, (Class<?>) args[0]);
            case "execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch":
                if (args != null && args.length > 0 && args[0] instanceof String sql) {
                    connection.seen(sql);
                }
                break;
            default:
                break;
        }
        return wrapResult(invokeDelegate(method, args));
    }

    /** The statement this result set came from, directly or through another result set; null for metadata. */
    private Object producingStatement() {
        for (Object h = owner.holder(); h instanceof JdbcProxy p; h = p.owner.holder()) {
            if (p.self instanceof Statement) {
                return p.self;
            }
        }
        return null;
    }

    /**
     * A driver interface of the connection: java.sql.Connection's own methods are the handle's (with its
     * transaction rules and state recording); of the rest only those the dialect allows.
     */
    private Object invokeVendor(Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (name.equals("isClosed") && method.getParameterCount() == 0) {
            return closed || connection.isClosed() || connection.generation() != generation;
        }
        checkOpen();
        if (!vendor.allowed().contains(name)) {
            throw new SQLFeatureNotSupportedException("proxyra: " + type.getSimpleName() + "." + name + " is not"
                    + " available through proxyra: it would change the caller's session, or keep the physical connection,"
                    + " beyond what proxyra controls; use " + vendor.alternative(), SqlState.FEATURE_NOT_SUPPORTED);
        }
        Object result = invokeDelegate(method, args);
        return wrapResult(vendor.binder().bind(result, delegate, this::checkOpen));
    }

    /** java.sql.Connection's own methods of a driver interface of the connection: the handle's. */
    private Object invokeAsHandle(Method method, Object[] args) throws Throwable {
        if (method.getName().equals("isClosed") && method.getParameterCount() == 0) {
            return closed || connection.isClosed() || connection.generation() != generation;
        }
        try {
            checkOpen();
        } catch (SQLException e) {
            throw declared(method, e);
        }
        try {
            return method.invoke(connection, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private Object unwrap(Object proxy, Class<?> iface) throws SQLException {
        if (iface.isInstance(proxy)) {
            return proxy;
        }
        if (iface.isInterface() && !Connection.class.isAssignableFrom(iface) && isDriverWrapperFor(iface)) {
            // e.g. a statement as org.postgresql.PGStatement or oracle.jdbc.OraclePreparedStatement: the same
            // checks, and its results wrapped as everything else
            return wrap(iface, ((Wrapper) delegate).unwrap(iface), connection, owner, null);
        }
        throw new SQLException("proxyra: " + type.getSimpleName() + " cannot be unwrapped to " + iface.getName()
                + (Connection.class.isAssignableFrom(iface) ? ": the physical connection is never handed out; use"
                        + " Connection.unwrap on the connection handle" : ""), SqlState.FEATURE_NOT_SUPPORTED);
    }

    private boolean isWrapperFor(Object proxy, Class<?> iface) throws SQLException {
        return iface.isInstance(proxy)
                || (iface.isInterface() && !Connection.class.isAssignableFrom(iface) && isDriverWrapperFor(iface));
    }

    private boolean isDriverWrapperFor(Class<?> iface) throws SQLException {
        try {
            return delegate instanceof Wrapper w && w.isWrapperFor(iface);
        } catch (SQLException e) {
            throw connection.failed(e);
        }
    }

    private Object invokeDelegate(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, unwrapArguments(args));
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw connection.failed(sql);
            }
            throw cause;
        }
    }

    /** Objects the application got from proxyra go back to the driver as the driver's own (setBlob, setArray...). */
    private static Object[] unwrapArguments(Object[] args) {
        if (args == null) {
            return null;
        }
        Object[] copy = null;
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            // instanceof Proxy first: a subclass check, where isProxyClass is a lookup per argument (an Integer column
            // index on every getXxx)
            if (a instanceof Proxy && Proxy.getInvocationHandler(a) instanceof JdbcProxy h) {
                if (copy == null) {
                    copy = args.clone();
                }
                copy[i] = h.delegate;
            }
        }
        return copy == null ? args : copy;
    }

    /** Wraps what a call returned by what it is; the physical connection becomes the handle. */
    private Object wrapResult(Object result) {
        if (result == null || isPlainValue(result.getClass())) {
            return result;
        }
        if (result == delegate) {
            return self;
        }
        if (result instanceof Connection) {
            return connection.face();
        }
        Class<?> as = wrappedType(result);
        if (as != null) {
            return wrap(as, result, connection, children, null);
        }
        if (result instanceof Object[] array && array.length > 0) {
            return wrapElements(array);
        }
        return GuardedStreams.guard(result, this);
    }

    /**
     * For the streams this object returned: a call in flight while the handle is open and, for a LOB, while it is not
     * freed. A column's stream outlives its result set as far as the driver allows (pgjdbc's are in memory), never
     * the handle.
     */
    @Override
    public boolean enter() {
        if (!connection.enter()) {
            return false;
        }
        if ((closed && isValueObject(type)) || connection.generation() != generation) {
            connection.exit();
            return false;
        }
        return true;
    }

    @Override
    public void exit() {
        connection.exit();
    }

    static Class<?> wrappedType(Object result) {
        for (Class<?> t : WRAPPED) {
            if (t.isInstance(result)) {
                return t;
            }
        }
        return null;
    }

    /** Array.getArray and Struct.getAttributes can hold structs, arrays and LOBs. */
    private Object wrapElements(Object[] array) {
        Object[] copy = null;
        for (int i = 0; i < array.length; i++) {
            Class<?> as = array[i] == null ? null : wrappedType(array[i]);
            if (as != null) {
                if (copy == null) {
                    Class<?> component = array.getClass().getComponentType();
                    copy = component.isAssignableFrom(as) && component.isInterface() || component == Object.class
                            ? (Object[]) java.lang.reflect.Array.newInstance(component, array.length)
                            : new Object[array.length];
                    System.arraycopy(array, 0, copy, 0, array.length);
                }
                copy[i] = wrap(as, array[i], connection, children, null);
            }
        }
        return copy == null ? array : copy;
    }

    /** Statements and result sets that JDBC reports closed release their wrappers; a bounded list of children. */
    static final class Children {
        /** For objects no one owns but their handle. */
        static final Children NONE = new Children(null);
        private static final int FIRST_PRUNE = 16;
        private final Object holder;
        private JdbcProxy[] items;
        private int size;
        private int pruneAt = FIRST_PRUNE;

        Children(Object holder) {
            this.holder = holder;
        }

        /** The object these children belong to: a JdbcProxy, a ConnectionHandle, or null for the proxy's own. */
        Object holder() {
            return holder;
        }

        synchronized void add(JdbcProxy child) {
            if (this == NONE) {
                return;
            }
            if (items == null) {
                items = new JdbcProxy[4];
            } else if (size >= pruneAt) {
                prune();
                pruneAt = Math.max(FIRST_PRUNE, size * 2);
            }
            if (size == items.length) {
                items = java.util.Arrays.copyOf(items, size * 2);
            }
            items[size++] = child;
        }

        private void prune() {
            int kept = 0;
            for (int i = 0; i < size; i++) {
                if (!items[i].isDone()) {
                    items[kept++] = items[i];
                }
            }
            java.util.Arrays.fill(items, kept, size, null);
            size = kept;
        }

        synchronized void remove(JdbcProxy child) {
            if (items == null) {
                return;
            }
            for (int i = size - 1; i >= 0; i--) {
                if (items[i] == child) {
                    System.arraycopy(items, i + 1, items, i, size - i - 1);
                    items[--size] = null;
                    return;
                }
            }
        }

        /** The open wrapper of {@code delegate} as {@code type}, if there is one (getResultSet twice: one wrapper). */
        synchronized JdbcProxy find(Object delegate, Class<?> type) {
            if (items == null) {
                return null;
            }
            for (int i = size - 1; i >= 0; i--) {
                JdbcProxy c = items[i];
                if (c.delegate == delegate && c.type == type && !c.closed) {
                    return c;
                }
            }
            return null;
        }

        synchronized int size() {
            return size;
        }

        void closeAll(boolean physicalToo) {
            JdbcProxy[] open;
            synchronized (this) {
                if (size == 0) {
                    return;
                }
                open = java.util.Arrays.copyOf(items, size);
                java.util.Arrays.fill(items, 0, size, null);
                size = 0;
                pruneAt = FIRST_PRUNE;
            }
            for (JdbcProxy child : open) {
                child.close(physicalToo);
            }
        }
    }

    /** Wrappers held below {@code wrapper} (a statement's result sets...): for tests of the bound. */
    static int childCount(Object wrapper) {
        return ((JdbcProxy) Proxy.getInvocationHandler(wrapper)).children.size();
    }

    /** Whether {@code wrapper}, made by this class, is closed. */
    static boolean isDone(Object wrapper) {
        return ((JdbcProxy) Proxy.getInvocationHandler(wrapper)).isDone();
    }
}
