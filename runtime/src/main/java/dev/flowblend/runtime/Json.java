package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** The one JSON mapper for manifests, config files and plan files: snake_case keys, unknown keys rejected. */
public final class Json {
    private static final ObjectMapper MAPPER = strict(new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)  // "port": 9150.5 is an error, not 9150
            .enable(SerializationFeature.INDENT_OUTPUT)
            // "models": [null] is an error naming the key, not a NullPointerException in List.copyOf
            .setDefaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL)));

    /** A number is not a string and a string is not a number: "port": "8100" is refused, not converted. */
    private static ObjectMapper strict(ObjectMapper m) {
        for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        }
        m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return m;
    }

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Reads a file into {@code type}; the exception names the file, the key's path
     * ({@code limits.max_steps}, {@code segments[1].end}) and line, and what was wrong.
     */
    public static <T> T read(Path file, Class<T> type) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
        return read(bytes, file.toString(), type);
    }

    /**
     * Reads a JSON document into {@code type}; {@code source} (a file name) starts every message.
     * Never returns null: an empty document, or one that is just {@code null}, is refused.
     */
    public static <T> T read(byte[] bytes, String source, Class<T> type) {
        T value;
        try {
            value = MAPPER.readValue(bytes, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot read " + source + ": " + describe(e), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + source + ": " + rootMessage(e), e);
        }
        if (value == null) {
            throw new IllegalArgumentException("cannot read " + source + ": the document is null; it must be a JSON object");
        }
        return value;
    }

    /** "limits.max_steps (line 12): ..." — where in the document, then the cause's own words. */
    static String describe(JsonProcessingException e) {
        StringBuilder where = new StringBuilder();
        if (e instanceof JsonMappingException m) {
            for (JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) {
                    where.append(where.length() == 0 ? "" : ".").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    where.append('[').append(r.getIndex()).append(']');
                }
            }
        }
        JsonLocation loc = e.getLocation();
        String line = loc == null || loc.getLineNr() < 1 ? "" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        // a config record's own validation speaks for itself (it names its field)
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String what = root instanceof IllegalArgumentException && root != e ? root.getMessage()
                : root instanceof NullPointerException && root != e ? "a required value is missing"
                        + (root.getMessage() == null ? "" : " (" + root.getMessage() + ")")
                : e instanceof UnrecognizedPropertyException u ? "Unrecognized field \"" + u.getPropertyName()
                        + "\"; known keys: " + u.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList()
                : plain(e.getOriginalMessage().lines().findFirst().orElse(""));
        String at = where.length() == 0 ? line : line.isEmpty() ? where.toString() : where + " (" + line + ")";
        return at.isEmpty() ? what : at + ": " + what;
    }

    /**
     * Jackson's words without its internals: "[Source: ...; line: 3, column: 5]" becomes "line 3,
     * column 5", a Java type name its simple name ("`java.lang.Integer`" becomes "`Integer`").
     */
    static String plain(String message) {
        String m = SOURCE.matcher(message).replaceAll("line $1, column $2");
        m = CLASS.matcher(m).replaceAll(r -> "`" + java.util.regex.Matcher.quoteReplacement(simple(r.group(1))) + "`");
        return BARE_CLASS.matcher(m).replaceAll(r -> java.util.regex.Matcher.quoteReplacement(simple(r.group(1))));
    }

    private static String simple(String className) {
        String s = className.substring(className.lastIndexOf('.') + 1);
        return s.substring(s.lastIndexOf('$') + 1);
    }

    private static final Pattern SOURCE = Pattern.compile("\\[Source: [^;\\]]*(?:\\([^)]*\\))?[^;\\]]*; line: (\\d+), column: (\\d+)\\]");
    private static final Pattern CLASS = Pattern.compile("`((?:[a-z][a-z0-9_]*\\.)+[A-Za-z0-9_$]+)`");
    private static final Pattern BARE_CLASS = Pattern.compile("\\b((?:[a-z][a-z0-9_]*\\.){2,}[A-Z][A-Za-z0-9_$]*)");

    /** A config value that may be left out: {@code value}, or {@code fallback} when it is absent. */
    public static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One-line JSON, for the last stdout line of --json commands. */
    public static String writeCompact(Object value) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.toString() : m.lines().findFirst().orElse(m);
    }
}
