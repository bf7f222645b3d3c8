package dev.proxyra.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.sql.Array;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLXML;
import java.sql.Statement;
import java.sql.Wrapper;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PGobject;

import dev.proxyra.testing.CallerDataSource;
import dev.proxyra.testing.Database;
import dev.proxyra.testing.PostgresExtension;

/**
 * JdbcProxy returns plain values (String, Integer, Timestamp...) as they are, recognised by exact class before it
 * scans for JDBC interfaces; the attack is to get an unwrapped JDBC object out through that shortcut.
 */
@ExtendWith(PostgresExtension.class)
class PlainValueFastPathTest {
    private CallerDataSource alice;
    private ProxyraDataSource ds;

    @BeforeEach
    void setUp(Database db) {
        alice = CallerDataSource.open(db, "alice", f -> { });
        ds = alice.ds();
    }

    @AfterEach
    void tearDown() {
        alice.close();
    }

    /** Nothing on the list is, or holds, anything that could reach a connection. */
    @Test
    void everyPlainValueClassIsAJdkValueThatCannotReachAConnection() {
        assertThat(JdbcProxy.plainValues()).isNotEmpty();
        for (Class<?> type : JdbcProxy.plainValues()) {
            assertThat(type.getName()).as("a JDK class").matches("(java\\.(lang|math|util|sql|time)\\.\\w+|\\[B)");
            for (Class<?> reaching : new Class<?>[] {Wrapper.class, AutoCloseable.class, InputStream.class,
                OutputStream.class, Reader.class, Writer.class}) {
                assertThat(reaching.isAssignableFrom(type)).as(type + " is a " + reaching).isFalse();
            }
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(f.getModifiers())) {
                        Class<?> held = f.getType();
                        assertThat(Wrapper.class.isAssignableFrom(held) || AutoCloseable.class.isAssignableFrom(held)
                                || held.getName().startsWith("org.postgresql") || held.getName().startsWith("oracle."))
                                .as(type + "." + f.getName()).isFalse();
                    }
                }
            }
        }
    }

    @Test
    void plainValuesComeBackAsTheDriversOwn() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select 'x'::text, 1::int, 2::bigint, 1.5::numeric,"
                     + " timestamp '2026-12-07 10:00', date '2026-12-07', true, '\\x01'::bytea")) {
            rs.next();
            Class<?>[] expected = {String.class, Integer.class, Long.class, java.math.BigDecimal.class,
                java.sql.Timestamp.class, java.sql.Date.class, Boolean.class, byte[].class};
            for (int i = 0; i < expected.length; i++) {
                assertThat(rs.getObject(i + 1)).as("column " + (i + 1)).isExactlyInstanceOf(expected[i]);
            }
        }
    }

    /** The attack: every JDBC object a getObject or getXxx returns is still proxyra's wrapper, bound to the handle. */
    @Test
    void jdbcObjectsFromGetObjectAreStillWrapped() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false); // a refcursor and large objects live in a transaction
            s.execute("declare fast_path_cursor cursor for select 1 as one");
            try (ResultSet rs = s.executeQuery("select array[1,2]::int[], '<a/>'::xml, 'fast_path_cursor'::refcursor,"
                    + " lo_from_bytea(0, 'abc'::bytea), point(1,2), interval '1 day'")) {
                rs.next();
                Object array = rs.getObject(1);
                assertThat(array).isInstanceOf(Array.class);
                assertGuarded(array);
                assertGuarded(((Array) array).getResultSet());
                Object xml = rs.getObject(2);
                assertThat(xml).isInstanceOf(SQLXML.class);
                assertGuarded(xml);
                Object cursor = rs.getObject(3);
                assertThat(cursor).isInstanceOf(ResultSet.class);
                assertGuarded(cursor);
                assertThat(((ResultSet) cursor).getStatement()).isSameAs(s);
                Blob blob = rs.getBlob(4);
                assertGuarded(blob);
                Clob clob = rs.getClob(4);
                assertGuarded(clob);
                assertGuarded(blob.getBinaryStream()); // a stream of a LOB: guarded too
                // driver values that are not JDBC objects take the scan as before, and hold no connection
                for (int column : new int[] {5, 6}) {
                    Object value = rs.getObject(column);
                    assertThat(value).isInstanceOf(PGobject.class);
                    assertThat(JdbcProxy.isPlainValue(value.getClass())).isFalse();
                }
            } finally {
                c.rollback();
            }
        }
    }

    private static void assertGuarded(Object value) {
        assertThat(value).isNotNull();
        if (value instanceof InputStream) {
            assertThat(value.getClass().getName()).startsWith(GuardedStreams.class.getName());
            return;
        }
        assertThat(Proxy.isProxyClass(value.getClass())).as(value.getClass().getName()).isTrue();
        assertThat(Proxy.getInvocationHandler(value)).isInstanceOf(JdbcProxy.class);
    }
}
