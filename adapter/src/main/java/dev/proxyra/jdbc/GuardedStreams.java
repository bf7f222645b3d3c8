package dev.proxyra.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;

/**
 * Streams a JDBC object returned (a large object's contents, a LOB column read from the database as it is
 * consumed): they read and write on the physical connection long after the call that made them, so every call is
 * counted in flight on the handle and fails once the object or its handle is closed; closing one then touches
 * nothing. A PostgreSQL large-object stream kept past close would otherwise open, read and close its large object
 * on the session the next caller holds, as that caller and inside that caller's transaction, which its errors
 * abort.
 */
final class GuardedStreams {
    private GuardedStreams() {
    }

    /** What a stream asks of the object that returned it. */
    interface Guard {
        /** Counts a call in flight; false, counting nothing, once the object or its handle is closed. */
        boolean enter();

        void exit();
    }

    /** {@code result} guarded when it is a stream; anything else unchanged. */
    static Object guard(Object result, Guard guard) {
        if (result instanceof InputStream in) {
            return new In(in, guard);
        }
        if (result instanceof OutputStream out) {
            return new Out(out, guard);
        }
        if (result instanceof Reader reader) {
            return new ReaderOf(reader, guard);
        }
        if (result instanceof Writer writer) {
            return new WriterOf(writer, guard);
        }
        return result;
    }

    private static IOException closed() {
        return new IOException(ConnectionHandle.closedException("stream of a JDBC object"));
    }

    private static final class In extends InputStream {
        private final InputStream d;
        private final Guard g;

        In(InputStream d, Guard g) {
            this.d = d;
            this.g = g;
        }

        @Override
        public int read() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.read();
            } finally {
                g.exit();
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.read(b, off, len);
            } finally {
                g.exit();
            }
        }

        @Override
        public long skip(long n) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.skip(n);
            } finally {
                g.exit();
            }
        }

        @Override
        public int available() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.available();
            } finally {
                g.exit();
            }
        }

        @Override
        public void reset() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.reset();
            } finally {
                g.exit();
            }
        }

        @Override
        public synchronized void mark(int limit) {
            if (g.enter()) {
                try {
                    d.mark(limit);
                } finally {
                    g.exit();
                }
            }
        }

        @Override
        public boolean markSupported() {
            return d.markSupported();
        }

        @Override
        public void close() throws IOException {
            if (g.enter()) {
                try {
                    d.close();
                } finally {
                    g.exit();
                }
            }
        }
    }

    private static final class Out extends OutputStream {
        private final OutputStream d;
        private final Guard g;

        Out(OutputStream d, Guard g) {
            this.d = d;
            this.g = g;
        }

        @Override
        public void write(int b) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.write(b);
            } finally {
                g.exit();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.write(b, off, len);
            } finally {
                g.exit();
            }
        }

        @Override
        public void flush() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.flush();
            } finally {
                g.exit();
            }
        }

        @Override
        public void close() throws IOException {
            if (g.enter()) {
                try {
                    d.close();
                } finally {
                    g.exit();
                }
            }
        }
    }

    private static final class ReaderOf extends Reader {
        private final Reader d;
        private final Guard g;

        ReaderOf(Reader d, Guard g) {
            this.d = d;
            this.g = g;
        }

        @Override
        public int read() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.read();
            } finally {
                g.exit();
            }
        }

        @Override
        public int read(char[] b, int off, int len) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.read(b, off, len);
            } finally {
                g.exit();
            }
        }

        @Override
        public long skip(long n) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.skip(n);
            } finally {
                g.exit();
            }
        }

        @Override
        public boolean ready() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                return d.ready();
            } finally {
                g.exit();
            }
        }

        @Override
        public void mark(int limit) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.mark(limit);
            } finally {
                g.exit();
            }
        }

        @Override
        public void reset() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.reset();
            } finally {
                g.exit();
            }
        }

        @Override
        public boolean markSupported() {
            return d.markSupported();
        }

        @Override
        public void close() throws IOException {
            if (g.enter()) {
                try {
                    d.close();
                } finally {
                    g.exit();
                }
            }
        }
    }

    private static final class WriterOf extends Writer {
        private final Writer d;
        private final Guard g;

        WriterOf(Writer d, Guard g) {
            this.d = d;
            this.g = g;
        }

        @Override
        public void write(int c) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.write(c);
            } finally {
                g.exit();
            }
        }

        @Override
        public void write(char[] b, int off, int len) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.write(b, off, len);
            } finally {
                g.exit();
            }
        }

        @Override
        public void write(String s, int off, int len) throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.write(s, off, len);
            } finally {
                g.exit();
            }
        }

        @Override
        public void flush() throws IOException {
            if (!g.enter()) {
                throw closed();
            }
            try {
                d.flush();
            } finally {
                g.exit();
            }
        }

        @Override
        public void close() throws IOException {
            if (g.enter()) {
                try {
                    d.close();
                } finally {
                    g.exit();
                }
            }
        }
    }
}
