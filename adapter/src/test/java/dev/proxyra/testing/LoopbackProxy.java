package dev.proxyra.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain-Java TCP proxy on 127.0.0.1 between a client (the pool) and a server (PostgreSQL) that can
 * turn into a network black hole: {@link #blackHole()} stops forwarding in both directions without
 * closing anything (like a dropped route or a hung firewall: sockets stay open, bytes simply do not
 * arrive; new connections are accepted but never answered), {@link #resume()} forwards again, including
 * what was held back, as TCP retransmission would deliver it; {@link #forgetOpenConnections()} silences only the
 * connections open now, for good; {@link #dropAnswers()} lets requests through and drops the server's answers, and
 * {@link #cutOpenConnections()} closes every connection open now (as a reset would). It also counts the round trips PostgreSQL clients
 * ask for ({@link #roundTrips()}), and can stand for a network with latency: every byte is forwarded a fixed delay
 * after it arrived, in each direction, without limiting throughput (a delay line, not a pause per read).
 */
public final class LoopbackProxy implements AutoCloseable {
    private final int targetPort;
    private final long delayNanos;
    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new ArrayList<>();
    private final List<Thread> pumps = new ArrayList<>();
    private final Object gate = new Object();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger roundTrips = new AtomicInteger();
    private boolean forwarding = true; // guarded by gate
    /** Connections opened since the proxy started or last forgot them; guarded by gate. */
    private int epoch;
    /** Connections of an earlier epoch are forgotten: nothing of theirs is forwarded again; guarded by gate. */
    private int forgottenBefore;
    private volatile boolean closed;
    private volatile boolean droppingAnswers;

    public LoopbackProxy(int targetPort) throws IOException {
        this(targetPort, java.time.Duration.ZERO);
    }

    /** A proxy that delivers every byte {@code oneWayDelay} after it arrived, in each direction. */
    public LoopbackProxy(int targetPort, java.time.Duration oneWayDelay) throws IOException {
        this.targetPort = targetPort;
        this.delayNanos = oneWayDelay.toNanos();
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "loopback-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/postgres";
    }

    /** Connections accepted from clients so far. */
    public int accepted() {
        return accepted.get();
    }

    /**
     * Round trips the clients asked for so far: the Sync and simple Query messages they sent, each of which the
     * server answers with ReadyForQuery. Counted before the bytes are forwarded, so a client that got its answer
     * already sees its own round trip counted.
     */
    public int roundTrips() {
        return roundTrips.get();
    }

    /** Stops forwarding bytes, in both directions and for new connections; closes nothing. */
    public void blackHole() {
        synchronized (gate) {
            forwarding = false;
        }
    }

    /**
     * Like a firewall or NAT that dropped its state for every connection open now: their bytes are never forwarded
     * again, nothing is closed or answered, while new connections work.
     */
    public void forgetOpenConnections() {
        synchronized (gate) {
            forgottenBefore = ++epoch;
        }
    }

    /**
     * What clients send still reaches the server, but nothing the server answers reaches a client: a statement runs
     * and its client waits for the answer, as when a connection breaks just after the server did the work.
     */
    public void dropAnswers() {
        droppingAnswers = true;
    }

    /** Closes every connection open now, on both sides, and forwards answers again for the connections made later. */
    public void cutOpenConnections() {
        List<Socket> open;
        synchronized (this) {
            open = new ArrayList<>(sockets);
            sockets.clear();
        }
        droppingAnswers = false;
        open.forEach(LoopbackProxy::closeQuietly);
    }

    /** Forwards again. */
    public void resume() {
        synchronized (gate) {
            forwarding = true;
            gate.notifyAll();
        }
    }

    private void awaitForwarding() throws InterruptedException {
        awaitForwarding(Integer.MAX_VALUE);
    }

    private void awaitForwarding(int bornIn) throws InterruptedException {
        synchronized (gate) {
            while ((!forwarding || bornIn < forgottenBefore) && !closed) {
                gate.wait();
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            Thread connector = new Thread(() -> connect(client), "loopback-proxy-connect");
            connector.setDaemon(true);
            register(client, connector);
            connector.start();
        }
    }

    /** Opens the server side once forwarding is on (a black hole answers no new connection either). */
    private void connect(Socket client) {
        Socket upstream = null;
        try {
            awaitForwarding();
            if (closed) {
                return;
            }
            int bornIn;
            synchronized (gate) {
                bornIn = epoch;
            }
            upstream = new Socket();
            upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
            Thread up = new Thread(pump(client, upstream, new FrontendMessages(roundTrips), bornIn), "loopback-proxy-up");
            Thread down = new Thread(pump(upstream, client, null, bornIn), "loopback-proxy-down");
            up.setDaemon(true);
            down.setDaemon(true);
            register(upstream, up);
            register(null, down);
            up.start();
            down.start();
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private Runnable pump(Socket from, Socket to, FrontendMessages messages, int bornIn) {
        return () -> {
            byte[] buffer = new byte[16 * 1024];
            DelayLine line = null;
            try {
                // not closed by a try-with-resources: the delay line must drain before the sockets close (finally)
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                if (delayNanos > 0) {
                    line = new DelayLine(out, delayNanos);
                    register(null, line.writer);
                    line.writer.start();
                }
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitForwarding(bornIn); // in a black hole, what was read is held back, not dropped
                    if (closed) {
                        break;
                    }
                    if (messages != null) {
                        messages.read(buffer, n);
                    } else if (droppingAnswers) {
                        continue; // an answer of the server, dropped
                    }
                    if (line != null) {
                        line.send(java.util.Arrays.copyOf(buffer, n));
                    } else {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException | InterruptedException e) {
                // one side closed or reset: close the other too
            } finally {
                if (line != null) {
                    line.finish(); // what is on the line still arrives, then the connection closes
                }
                closeQuietly(from);
                closeQuietly(to);
            }
        };
    }

    private synchronized void register(Socket socket, Thread thread) {
        if (socket != null) {
            sockets.add(socket);
        }
        pumps.add(thread);
        if (closed) {
            closeQuietly(socket);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** Closes every socket and waits (bounded) for the proxy's threads to end. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        resume();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        List<Socket> toClose;
        List<Thread> toJoin;
        synchronized (this) {
            toClose = new ArrayList<>(sockets);
            toJoin = new ArrayList<>(pumps);
        }
        toClose.forEach(LoopbackProxy::closeQuietly);
        acceptor.join(5_000);
        for (Thread t : toJoin) {
            t.join(5_000);
        }
    }

    /**
     * One direction of a connection with latency: chunks are queued with the time they are due and written by a
     * thread of their own, in order, each no earlier than its due time, so bytes in flight do not wait for each other.
     */
    private static final class DelayLine {
        private record Chunk(long dueNanos, byte[] bytes) {
        }

        private static final Chunk END = new Chunk(0, new byte[0]);
        private final java.util.concurrent.BlockingQueue<Chunk> queue = new java.util.concurrent.LinkedBlockingQueue<>();
        private final long delayNanos;
        final Thread writer;

        DelayLine(OutputStream out, long delayNanos) {
            this.delayNanos = delayNanos;
            this.writer = new Thread(() -> {
                try {
                    for (Chunk c = queue.take(); c != END; c = queue.take()) {
                        long wait;
                        while ((wait = c.dueNanos() - System.nanoTime()) > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(wait); // the latency itself
                        }
                        out.write(c.bytes());
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    // the other side closed: nothing more to deliver
                }
            }, "loopback-proxy-delay");
            writer.setDaemon(true);
        }

        void send(byte[] bytes) {
            queue.add(new Chunk(System.nanoTime() + delayNanos, bytes));
        }

        void finish() {
            queue.add(END);
            try {
                writer.join(1_000 + delayNanos / 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Splits what a PostgreSQL client sends into protocol messages, in whatever chunks TCP delivers them, and counts
     * the ones that end a round trip. First come untyped packets (SSLRequest or GSSENCRequest, then the startup
     * message: a length and a code), then typed messages (a type byte and a length that counts itself).
     */
    private static final class FrontendMessages {
        private static final int SSL_REQUEST = 80877103;
        private static final int GSSENC_REQUEST = 80877104;
        private final AtomicInteger roundTrips;
        private final byte[] header = new byte[8];
        private int headerBytes;
        private long bodyBytesLeft;
        private boolean started;

        FrontendMessages(AtomicInteger roundTrips) {
            this.roundTrips = roundTrips;
        }

        void read(byte[] bytes, int length) {
            int i = 0;
            while (i < length) {
                if (bodyBytesLeft > 0) {
                    int skipped = (int) Math.min(bodyBytesLeft, length - i);
                    bodyBytesLeft -= skipped;
                    i += skipped;
                    continue;
                }
                header[headerBytes++] = bytes[i++];
                if (headerBytes < (started ? 5 : 8)) {
                    continue;
                }
                headerBytes = 0;
                if (started) {
                    bodyBytesLeft = intAt(1) - 4L;
                    if (header[0] == 'S' || header[0] == 'Q') {
                        roundTrips.incrementAndGet();
                    }
                } else {
                    bodyBytesLeft = intAt(0) - 8L;
                    int code = intAt(4);
                    started = code != SSL_REQUEST && code != GSSENC_REQUEST;
                }
            }
        }

        private int intAt(int offset) {
            return ((header[offset] & 0xff) << 24) | ((header[offset + 1] & 0xff) << 16)
                    | ((header[offset + 2] & 0xff) << 8) | (header[offset + 3] & 0xff);
        }
    }
}
