package dev.proxyra.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.RowIdLifetime;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import dev.proxyra.SqlState;

/**
 * The Connection a request without a caller holds (UnauthenticatedAccess=METADATA_ONLY): deny by default. It is a
 * proxy of java.sql.Connection in front of the request's {@link ConnectionHandle}, so every method of the interface,
 * including those a later JDK adds (as Java 9 added beginRequest, endRequest and setShardingKey), comes here first;
 * only the methods in {@link #ALLOWED} reach the handle, and every other one is refused with SQLState 28000. The
 * {@link DatabaseMetaData} it hands out follows the same rule ({@link #allowsOnMetaData}): it answers what the
 * database and driver are, and refuses every catalogue query, so nothing reached from here runs a statement the
 * request chooses. (A few scalar answers are the driver's own queries of the catalogue's functions, e.g. pgjdbc's
 * getSQLKeywords reads pg_get_keywords(): no data, and no state left on the session.)
 *
 * <p>What a JPA provider does with such a connection while it deploys a persistence unit, and why each allowed method
 * is safe on the proxy account's session:
 * <ul>
 * <li>EclipseLink (DatabaseSessionImpl.setOrDetectDatasource, DatabaseAccessor.connectInternal and buildConnectLog):
 *     getMetaData, then getDatabaseProductName/Version, getDatabaseMajor/MinorVersion, getDriverName/Version, getURL,
 *     getUserName; setTransactionIsolation when the persistence unit sets one; close.</li>
 * <li>Hibernate (JdbcEnvironmentInitiator and its dialect resolution): getMetaData and its scalar answers (versions,
 *     keywords, identifier case, supportsXxx), getCatalog, getAutoCommit and getTransactionIsolation for its boot
 *     log, getWarnings/clearWarnings when it releases the connection, close. It also asks getSchema (refused here:
 *     pgjdbc answers it by running {@code select current_schema()}) and getTypeInfo (a result set, refused); it
 *     catches both and deploys without them.</li>
 * </ul>
 * Allowed, and why:
 * <ul>
 * <li>close, isClosed, abort: end the handle (abort discards the session); isValid: the dialect's own check.</li>
 * <li>getMetaData: the purpose of this connection; its metadata is guarded as said above.</li>
 * <li>getAutoCommit, setAutoCommit, commit, rollback(): transaction demarcation goes through the managed connection's
 *     rules as on any handle; with no statement allowed, a transaction here holds nothing.</li>
 * <li>getTransactionIsolation, setTransactionIsolation: EclipseLink sets the persistence unit's isolation on the
 *     connection it logs in with; the change is recorded and restored when the session is returned, as on any
 *     handle.</li>
 * <li>getCatalog, isReadOnly, getHoldability, getNetworkTimeout: fields of the driver's connection, read without a
 *     round trip (pgjdbc, ojdbc).</li>
 * <li>getWarnings, clearWarnings: warnings of this handle's own calls.</li>
 * <li>unwrap, isWrapperFor: to this connection's own interfaces only (java.sql.Connection, java.sql.Wrapper,
 *     AutoCloseable); neither the handle behind it nor a driver interface is handed out.</li>
 * </ul>
 * Refused on purpose, besides statements, LOBs, arrays, structs and savepoints: every setter of session state
 * (setReadOnly, setCatalog, setSchema, setHoldability, setNetworkTimeout, setTypeMap, setClientInfo, the sharding
 * keys) since none is needed to read metadata; getSchema (a statement on PostgreSQL); getTypeMap (pgjdbc returns its
 * live map, which would let the request change what the session maps for later callers); getClientInfo (what
 * earlier requests named themselves is not a request without a caller's business); nativeSQL; rollback and release
 * of a savepoint (none can be made here); beginRequest and endRequest (the pool's, not the application's).
 */
final class MetadataOnlyConnection implements InvocationHandler {
    /** The methods of java.sql.Connection (and the interfaces it extends) a metadata-only handle answers. */
    static final Set<String> ALLOWED = Set.of(
            "close()", "isClosed()", "abort(java.util.concurrent.Executor)", "isValid(int)",
            "getMetaData()",
            "getAutoCommit()", "setAutoCommit(boolean)", "commit()", "rollback()",
            "getTransactionIsolation()", "setTransactionIsolation(int)",
            "getCatalog()", "isReadOnly()", "getHoldability()", "getNetworkTimeout()",
            "getWarnings()", "clearWarnings()",
            "unwrap(java.lang.Class)", "isWrapperFor(java.lang.Class)");

    private final ConnectionHandle handle;
    private final Connection self;

    private MetadataOnlyConnection(ConnectionHandle handle) {
        this.handle = handle;
        this.self = (Connection) Proxy.newProxyInstance(MetadataOnlyConnection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, this);
    }

    /** The application's face of a metadata-only {@code handle}. */
    static Connection guard(ConnectionHandle handle) {
        return new MetadataOnlyConnection(handle).self;
    }

    /** The handle behind {@code connection} when it is a metadata-only face made here, else null. */
    static ConnectionHandle handleOf(Object connection) {
        if (connection != null && Proxy.isProxyClass(connection.getClass())
                && Proxy.getInvocationHandler(connection) instanceof MetadataOnlyConnection guard) {
            return guard.handle;
        }
        return null;
    }

    /** A method as {@link #ALLOWED} names it: its name and parameter types. */
    static String signature(Method method) {
        return method.getName() + Arrays.stream(method.getParameterTypes()).map(Class::getName)
                .collect(Collectors.joining(",", "(", ")"));
    }

    /**
     * Whether a metadata-only handle's DatabaseMetaData answers {@code method}: what the database and driver are
     * (answers that are a primitive, a String or a RowIdLifetime) and getConnection (which gives this connection
     * back); its wrapper methods answer for its own interface only (see JdbcProxy). Anything else, every result set first, is a catalogue
     * query or an object proxyra does not know, and is refused.
     */
    static boolean allowsOnMetaData(Method method) {
        Class<?> answer = method.getReturnType();
        String name = method.getName();
        if (name.equals("unwrap") || name.equals("isWrapperFor")) {
            return false; // answered for the metadata's own interface by its wrapper, never for the driver's objects
        }
        if (method.getParameterCount() == 0 && name.equals("getConnection")) {
            return true;
        }
        return answer.isPrimitive() || answer == String.class || answer == RowIdLifetime.class;
    }

    /** What a metadata-only handle says to anything beyond metadata. */
    static SQLException refusal(String what) {
        return new SQLInvalidAuthorizationSpecException("proxyra: " + what + " is refused: this connection was"
                + " given to a request without a caller (UnauthenticatedAccess=METADATA_ONLY) and answers database"
                + " metadata only; no statement runs without a caller", SqlState.INVALID_AUTHORIZATION);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return JdbcProxy.objectMethod(proxy, name, args, handle.toString());
        }
        if (!ALLOWED.contains(signature(method))) {
            throw refused(method, name);
        }
        if (name.equals("unwrap") || name.equals("isWrapperFor")) {
            return ownInterface(method, (Class<?>) args[0]);
        }
        try {
            return method.invoke(handle, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private Object ownInterface(Method method, Class<?> iface) throws Throwable {
        boolean own = iface != null && iface.isInstance(self);
        if (method.getName().equals("isWrapperFor")) {
            if (handle.isClosed()) {
                throw ConnectionHandle.closedException("connection");
            }
            return own;
        }
        if (!own) {
            throw refused(method, "unwrap(" + (iface == null ? "null" : iface.getName()) + ")");
        }
        if (handle.isClosed()) {
            throw ConnectionHandle.closedException("connection");
        }
        return self;
    }

    /**
     * The refusal as {@code method} may throw it: 08003 once the handle is closed, as every call of a closed handle,
     * else 28000; an SQLClientInfoException for setClientInfo, an unchecked exception with the same message for a
     * method that declares no SQLException.
     */
    private Throwable refused(Method method, String what) {
        SQLException e = handle.isClosed() ? ConnectionHandle.closedException("connection") : refusal(what);
        Class<?>[] declared = method.getExceptionTypes();
        for (Class<?> thrown : declared) {
            if (thrown.isInstance(e)) {
                return e;
            }
        }
        for (Class<?> thrown : declared) {
            if (thrown == SQLClientInfoException.class) {
                return new SQLClientInfoException(e.getMessage(), e.getSQLState(), e.getErrorCode(), Map.of(), e);
            }
        }
        return new UnsupportedOperationException(e.getMessage(), e);
    }
}
