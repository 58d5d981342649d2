package dev.flowblend.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class EventTest {

    @Test
    void with_plainAndAwkwardValues_plainAsIsOthersQuotedAndEscaped() {
        assertEquals("event=step_retry pool=small attempt=2 error=\"UNAVAILABLE io exception\" quote=\"a\\\"b\""
                        + " eq=\"k=v\" empty=\"\" nl=\"a\\nb\"",
                Event.of("step_retry").with("pool", "small").with("attempt", 2).with("error", "UNAVAILABLE io exception")
                        .with("quote", "a\"b").with("eq", "k=v").with("empty", "").with("nl", "a\nb").toString());
    }

    @Test
    void format_eventWithException_oneHeaderLineThenIndentedTrace() {
        LogRecord r = new LogRecord(Level.SEVERE, Event.of("batch_failed").with("model", "m").toString());
        r.setLoggerName("dev.flowblend.worker.DynamicBatcher");
        r.setMillis(0);
        r.setThrown(new IllegalStateException("boom", new java.io.IOException("disk")));
        String text = new LogFormat().format(r);
        String[] lines = text.split("\n");
        assertTrue(lines[0].startsWith("ts=1970-01-01T00:00:00Z level=SEVERE logger=DynamicBatcher thread="), lines[0]);
        assertTrue(lines[0].endsWith(" event=batch_failed model=m error=\"java.lang.IllegalStateException: boom\""),
                lines[0]);
        assertTrue(lines[1].startsWith("\tat dev.flowblend.telemetry.EventTest."), lines[1]);
        assertTrue(text.contains("\n\tCaused by: java.io.IOException: disk\n\tat "), text);
    }

    @Test
    void format_plainMessageFromALibrary_quotedAsMsg() {
        LogRecord r = new LogRecord(Level.WARNING, "Transport failed");
        r.setLoggerName("io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport");
        r.setMillis(1000);
        assertTrue(new LogFormat().format(r).endsWith(" logger=io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport"
                + " thread=main msg=\"Transport failed\"\n"));
    }
}
