package dev.proxyra.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A failpoint on the wire between an application server and PostgreSQL: a TCP proxy on 127.0.0.1 that reads what
 * the server's driver sends message by message and forwards it unchanged, until it is armed with {@link #hold}.
 * Then the chosen statement (the n-th Parse or Query message whose SQL starts with a given text, e.g. the first
 * {@code COMMIT PREPARED}) never reaches the database, nor anything after it on that connection: the server's call
 * waits for an answer that does not come, as at a crash of the server in that instant, and the test kills the server
 * or restarts the database while it waits. Armed with {@link #loseAnswer} instead, the statement reaches the database
 * and runs, but nothing the database answers on that connection reaches the server, until the test cuts the
 * connection ({@link Hold#cut()}): a connection that broke just after the database did the work. The connection is
 * closed when either side closes it. No code of the
 * server or of proxyra is changed for it: the server runs its real transaction manager and recovery.
 */
public final class WireFailpoint implements AutoCloseable {
    private final int targetPort;
    private final ServerSocket listener;
    private final Thread acceptor;
    private final List<Socket> sockets = new ArrayList<>();
    private final Object lock = new Object();
    /** The armed hold, or null; guarded by lock. */
    private Hold armed;
    private volatile boolean closed;

    public WireFailpoint(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "wire-failpoint-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The port the server's pools connect to instead of the database's. */
    public int port() {
        return listener.getLocalPort();
    }

    /**
     * Arms the failpoint: the {@code occurrence}-th statement sent from now on whose SQL starts with {@code sqlStart}
     * (ignoring case and leading white space) is held back with the rest of its connection. One hold at a time.
     */
    public Hold hold(String sqlStart, int occurrence) {
        return arm(new Hold(sqlStart, occurrence, false));
    }

    /**
     * Arms the failpoint: the {@code occurrence}-th statement sent from now on whose SQL starts with {@code sqlStart}
     * is forwarded, and every answer of the database on its connection from then on is dropped, until
     * {@link Hold#cut()} closes the connection. One hold at a time.
     */
    public Hold loseAnswer(String sqlStart, int occurrence) {
        return arm(new Hold(sqlStart, occurrence, true));
    }

    private Hold arm(Hold hold) {
        synchronized (lock) {
            if (armed != null && !armed.happened()) {
                throw new IllegalStateException("a hold is armed already: " + armed);
            }
            armed = hold;
            return armed;
        }
    }

    /** Forwards everything again from now on (what a hold kept back stays unsent). */
    public void disarm() {
        synchronized (lock) {
            armed = null;
        }
    }

    /** The armed hold if {@code sql} on {@code link} is its statement; counts it against the armed hold. */
    private Hold holds(String sql, Link link) {
        synchronized (lock) {
            Hold h = armed;
            if (h == null || h.happened()) {
                return null;
            }
            String text = sql.stripLeading().toUpperCase(Locale.ROOT);
            if (text.startsWith(h.sqlStart) && ++h.seen == h.occurrence) {
                h.statement = sql;
                h.link = link;
                if (h.losesAnswer) {
                    link.droppingAnswers = true; // before the statement is forwarded: its answer is dropped too
                }
                h.held.countDown();
                return h;
            }
            return null;
        }
    }

    /** One connection through the failpoint: the server's socket and the database's. */
    private static final class Link {
        final Socket client;
        final Socket upstream;
        volatile boolean droppingAnswers;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }
    }

    /** One armed failpoint. */
    public static final class Hold {
        private final String sqlStart;
        private final int occurrence;
        private final boolean losesAnswer;
        private final CountDownLatch held = new CountDownLatch(1);
        private int seen; // guarded by the failpoint's lock
        private volatile String statement;
        private volatile Link link;

        private Hold(String sqlStart, int occurrence, boolean losesAnswer) {
            this.sqlStart = sqlStart.toUpperCase(Locale.ROOT);
            this.occurrence = occurrence;
            this.losesAnswer = losesAnswer;
        }

        /** Closes the connection of the statement, on both sides (the server's driver sees it break). */
        public void cut() {
            Link l = link;
            if (l == null) {
                throw new IllegalStateException("nothing to cut: " + this + " did not happen");
            }
            closeQuietly(l.client);
            closeQuietly(l.upstream);
        }

        public boolean happened() {
            return held.getCount() == 0;
        }

        /** Waits until the statement was held back; fails after {@code timeout} saying which one did not come. */
        public String await(Duration timeout) throws InterruptedException {
            if (!held.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no statement number " + occurrence + " starting with " + sqlStart
                        + " was sent within " + timeout);
            }
            return statement;
        }

        @Override
        public String toString() {
            return (losesAnswer ? "lost answer of" : "hold of") + " statement " + occurrence + " starting with "
                    + sqlStart;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            Socket upstream = new Socket();
            try {
                register(client);
                register(upstream);
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            Link link = new Link(client, upstream);
            start("wire-failpoint-up", () -> frontendToServer(link));
            start("wire-failpoint-down", () -> copy(link));
        }
    }

    private static void start(String name, Runnable pump) {
        Thread t = new Thread(pump, name);
        t.setDaemon(true);
        t.start();
    }

    /** The database's answers: copied as they come, or dropped once the link loses its answers. */
    private static void copy(Link link) {
        Socket from = link.upstream;
        Socket to = link.client;
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (link.droppingAnswers) {
                    continue;
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed or reset
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /**
     * What the client sends, message by message: first untyped packets (SSLRequest, GSSENCRequest, the startup
     * message: a length and a code), then typed ones (a type byte and a length that counts itself). Once a message
     * is held, everything after it on this connection is read and dropped, until the client closes.
     */
    private void frontendToServer(Link link) {
        Socket client = link.client;
        Socket server = link.upstream;
        try {
            InputStream in = new java.io.BufferedInputStream(client.getInputStream());
            OutputStream out = server.getOutputStream();
            boolean started = false;
            boolean holding = false;
            while (true) {
                ByteArrayOutputStream message = new ByteArrayOutputStream();
                int type = -1;
                if (started) {
                    type = in.read();
                    if (type < 0) {
                        return;
                    }
                    message.write(type);
                }
                byte[] lengthBytes = in.readNBytes(4);
                if (lengthBytes.length < 4) {
                    return;
                }
                message.write(lengthBytes);
                int length = ((lengthBytes[0] & 0xff) << 24) | ((lengthBytes[1] & 0xff) << 16)
                        | ((lengthBytes[2] & 0xff) << 8) | (lengthBytes[3] & 0xff);
                byte[] body = in.readNBytes(length - 4);
                if (body.length < length - 4) {
                    return;
                }
                message.write(body);
                if (!started) {
                    int code = body.length >= 4 ? ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16)
                            | ((body[2] & 0xff) << 8) | (body[3] & 0xff) : 0;
                    started = code != 80877103 && code != 80877104; // SSLRequest, GSSENCRequest
                } else if (!holding && (type == 'P' || type == 'Q')) {
                    Hold h = holds(sql(type, body), link);
                    holding = h != null && !h.losesAnswer;
                }
                if (!holding) {
                    message.writeTo(out);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // one side closed or reset
        } finally {
            closeQuietly(client);
            closeQuietly(server);
        }
    }

    /** The SQL of a Parse (a statement name, then the query, each NUL-terminated) or Query message. */
    private static String sql(int type, byte[] body) {
        int start = 0;
        if (type == 'P') {
            while (start < body.length && body[start] != 0) {
                start++;
            }
            start++;
        }
        int end = start;
        while (end < body.length && body[end] != 0) {
            end++;
        }
        return start >= body.length ? "" : new String(body, start, end - start, StandardCharsets.UTF_8);
    }

    private void register(Socket socket) {
        synchronized (sockets) {
            sockets.add(socket);
            if (closed) {
                closeQuietly(socket);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        synchronized (sockets) {
            sockets.forEach(WireFailpoint::closeQuietly);
        }
        acceptor.join(5_000);
    }
}
