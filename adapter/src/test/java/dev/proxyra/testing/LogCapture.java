package dev.proxyra.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Records what a logger (and its children) publishes, at every level, until closed. */
public final class LogCapture extends Handler implements AutoCloseable {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger logger;
    private final Level previous;

    private LogCapture(Logger logger) {
        this.logger = logger;
        this.previous = logger.getLevel();
    }

    /** Starts recording {@code name} at {@code level} and finer (the logger's own level is lowered while recording). */
    public static LogCapture on(String name, Level level) {
        LogCapture capture = new LogCapture(Logger.getLogger(name));
        if (capture.logger.getLevel() == null || capture.logger.getLevel().intValue() > level.intValue()) {
            capture.logger.setLevel(level);
        }
        capture.logger.addHandler(capture);
        return capture;
    }

    public List<LogRecord> records() {
        return records;
    }

    public List<String> messages(Level level) {
        return records.stream().filter(r -> r.getLevel() == level).map(LogRecord::getMessage).toList();
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(previous);
    }
}
