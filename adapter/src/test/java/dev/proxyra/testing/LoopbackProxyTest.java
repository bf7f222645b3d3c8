package dev.proxyra.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * The proxy's latency line, against an echo server: every byte arrives, in order, and no earlier than the delay in
 * each direction allows (a lower bound, which a slow machine cannot break; how much later is not asserted).
 */
class LoopbackProxyTest {

    @Test
    void aDelayedProxyDeliversEverythingInOrderAndNoEarlierThanItsDelay() throws Exception {
        Duration oneWay = Duration.ofMillis(20);
        try (ServerSocket echo = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = echo.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                    in.transferTo(out);
                } catch (Exception e) {
                    // the client closed
                }
            });
            server.start();
            try (LoopbackProxy proxy = new LoopbackProxy(echo.getLocalPort(), oneWay);
                 Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                OutputStream out = client.getOutputStream();
                DataInputStream in = new DataInputStream(client.getInputStream());
                long start = System.nanoTime();
                out.write(new byte[] {42});
                out.flush();
                assertThat(in.readByte()).isEqualTo((byte) 42);
                long roundTrip = System.nanoTime() - start;
                assertThat(roundTrip).as("one round trip crosses the line twice").isGreaterThanOrEqualTo(2 * oneWay.toNanos());
                // many chunks in flight at once: all arrive, in order
                byte[] sent = new byte[200_000];
                for (int i = 0; i < sent.length; i++) {
                    sent[i] = (byte) (i * 31 + 7);
                }
                Thread writer = new Thread(() -> {
                    try {
                        for (int i = 0; i < sent.length; i += 1000) {
                            out.write(sent, i, 1000);
                            out.flush();
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                writer.start();
                byte[] received = new byte[sent.length];
                in.readFully(received);
                writer.join();
                assertThat(received).isEqualTo(sent);
            }
            server.join(5_000);
        }
    }
}
