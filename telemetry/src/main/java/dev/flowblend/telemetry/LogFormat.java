package dev.flowblend.telemetry;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The one log line format of every flowblend process (java.util.logging, which gRPC and Netty log
 * through too): {@code ts=2026-12-02T05:30:00.123Z level=INFO logger=orchestrator thread=generation
 * event=... key=value...}; a message that is not an {@link Event} goes in {@code msg="..."}; an
 * exception follows as {@code error="..."} and its stack trace on the next lines, each indented by
 * a tab, so a line-based collector keeps it with its event. Thread-safe (Formatter contract).
 */
public final class LogFormat extends Formatter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT.withZone(ZoneOffset.UTC);

    @Override
    public String format(LogRecord r) {
        StringBuilder b = new StringBuilder(160);
        b.append("ts=").append(TIME.format(Instant.ofEpochMilli(r.getMillis())));
        b.append(" level=").append(r.getLevel().getName());
        b.append(" logger=").append(shortName(r.getLoggerName()));
        b.append(" thread=");
        Event.appendValue(b, Thread.currentThread().getName());
        String m = formatMessage(r);
        if (m != null && m.startsWith("event=")) {
            b.append(' ').append(m);
        } else {
            b.append(" msg=");
            Event.appendValue(b, m == null ? "" : m);
        }
        if (r.getThrown() != null) {
            b.append(" error=");
            Event.appendValue(b, r.getThrown().toString());
            appendTrace(b, r.getThrown());
        }
        return b.append('\n').toString();
    }

    /** The frames of {@code t}, then each cause with its frames, a line each, tab-indented. */
    private static void appendTrace(StringBuilder b, Throwable t) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            if (c != t) {
                b.append("\n\tCaused by: ").append(c);
            }
            for (StackTraceElement e : c.getStackTrace()) {
                b.append("\n\tat ").append(e);
            }
        }
    }

    private static String shortName(String logger) {
        if (logger == null || logger.isEmpty()) {
            return "root";
        }
        return logger.startsWith("dev.flowblend.") ? logger.substring(logger.lastIndexOf('.') + 1) : logger;
    }

    /**
     * Routes every logger of the process to one stderr handler with this format (stdout stays for
     * a command's own output, such as a --json line). INFO and above by default;
     * {@code -Dflowblend.log.level=FINE} shows more. Call {@link #useKeepOnShutdown} first, so that
     * the drain and stop lines logged from shutdown hooks are not lost.
     */
    public static void install() {
        LogManager manager = LogManager.getLogManager();
        if (manager instanceof KeepOnShutdown keep) {
            keep.clear();
        } else {
            manager.reset();
        }
        Logger root = Logger.getLogger("");
        Level level = Level.parse(System.getProperty("flowblend.log.level", "INFO"));
        Handler h = new ConsoleHandler();
        h.setFormatter(new LogFormat());
        h.setLevel(level);
        root.setLevel(level);
        root.addHandler(h);
    }

    /**
     * Makes the JDK use {@link KeepOnShutdown} as its LogManager. Must run before anything touches
     * java.util.logging (first thing in main); later it has no effect.
     */
    public static void useKeepOnShutdown() {
        System.setProperty("java.util.logging.manager", KeepOnShutdown.class.getName());
    }

    /**
     * The JDK's LogManager closes every handler from a shutdown hook of its own, which may run
     * before the hooks that drain our servers, so their drain and stop lines would vanish. This
     * manager keeps its handlers until the JVM is gone; each record is flushed when written.
     */
    public static final class KeepOnShutdown extends LogManager {
        @Override
        public void reset() {
            // ignored: the JDK calls it at shutdown; clear() is the explicit reset
        }

        void clear() {
            super.reset();
        }
    }
}
