package dev.flowblend.telemetry;

/**
 * One notable event as a log message of key=value pairs, {@code event=} first:
 * {@code event=generation_finished id=7f3c plan=flowblending wall_ms=1234}. Values with spaces,
 * quotes, '=' or control characters are quoted with JSON-style escapes, so a line splits back
 * into its pairs. Not thread-safe: build one per log call.
 */
public final class Event {
    private final StringBuilder text = new StringBuilder(96);

    private Event(String name) {
        text.append("event=").append(name);
    }

    public static Event of(String name) {
        return new Event(name);
    }

    public Event with(String key, Object value) {
        text.append(' ').append(key).append('=');
        appendValue(text, String.valueOf(value));
        return this;
    }

    static void appendValue(StringBuilder out, String v) {
        boolean plain = !v.isEmpty();
        for (int i = 0; i < v.length() && plain; i++) {
            char c = v.charAt(i);
            plain = c > ' ' && c != '"' && c != '=' && c != '\\' && c != 0x7f;
        }
        if (plain) {
            out.append(v);
            return;
        }
        out.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < ' ' || c == 0x7f) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
