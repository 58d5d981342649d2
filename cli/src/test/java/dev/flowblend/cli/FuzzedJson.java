package dev.flowblend.cli;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowblend.runtime.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Mutated JSON documents for the config and plan fuzz tests: a valid document (one the project
 * ships), then edits the fuzzer chooses — a value replaced by another type, a number at or past a
 * limit, a key removed, renamed or added, an element added or removed, the whole text truncated or
 * a byte changed — and the invariant for what reading it may do.
 */
final class FuzzedJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** What a message must name: the line (Jackson's location) or the document being empty. */
    private static final Pattern WHERE = Pattern.compile("line \\d+|document is null|No content|end-of-input");
    /** What no message may show: parser internals rather than the user's field. */
    private static final List<String> INTERNALS = List.of("com.fasterxml", "No enum constant", "java.",
            "NullPointerException", "dev.flowblend.", "[Source:", "StreamReadFeature");

    private FuzzedJson() {
    }

    static JsonNode load(Path file) {
        try {
            return Json.mapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository root (tests run in the module directory). */
    static Path repo() {
        Path p = Path.of("").toAbsolutePath();
        return Files.exists(p.resolve("deploy")) ? p : p.getParent();
    }

    /** A mutated copy of one of {@code seeds}, as UTF-8 text. */
    static byte[] mutate(FuzzedDataProvider data, List<JsonNode> seeds) {
        JsonNode doc = seeds.get(data.consumeInt(0, seeds.size() - 1)).deepCopy();
        int edits = data.consumeInt(0, 4);
        for (int i = 0; i < edits && data.remainingBytes() > 0; i++) {
            doc = edit(doc, data);
        }
        byte[] text = Json.write(doc).getBytes(StandardCharsets.UTF_8);
        switch (data.consumeInt(0, 5)) {
            case 0 -> {  // truncated
                byte[] t = new byte[data.consumeInt(0, text.length)];
                System.arraycopy(text, 0, t, 0, t.length);
                return t;
            }
            case 1 -> {  // one byte changed
                if (text.length > 0) {
                    text[data.consumeInt(0, text.length - 1)] = data.consumeByte();
                }
                return text;
            }
            default -> {
                return text;
            }
        }
    }

    /** One edit at a node the fuzzer picks; returns the (possibly replaced) root. */
    private static JsonNode edit(JsonNode root, FuzzedDataProvider data) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode c = containers.isEmpty() ? null : containers.get(data.consumeInt(0, containers.size() - 1));
        if (c instanceof ObjectNode o && o.size() > 0) {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String k = keys.get(data.consumeInt(0, keys.size() - 1));
            switch (data.consumeInt(0, 3)) {
                case 0 -> o.remove(k);
                case 1 -> o.set(data.consumeBoolean() ? k + "s" : data.consumeString(12), o.remove(k));
                default -> o.set(k, value(data, o.get(k)));
            }
        } else if (c instanceof ArrayNode a) {
            switch (data.consumeInt(0, 2)) {
                case 0 -> {
                    if (a.size() > 0) {
                        a.remove(data.consumeInt(0, a.size() - 1));
                    }
                }
                case 1 -> a.add(value(data, a.size() > 0 ? a.get(0) : null));
                default -> {
                    if (a.size() > 0) {
                        a.set(data.consumeInt(0, a.size() - 1), value(data, a.get(0)));
                    }
                }
            }
        } else {
            return value(data, root);
        }
        return root;
    }

    private static void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) {
            out.add(n);
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
                collect(it.next(), out);
            }
        }
    }

    /** A value of some type: near the old one (another number, string) or of another kind. */
    private static JsonNode value(FuzzedDataProvider data, JsonNode old) {
        return switch (data.consumeInt(0, 11)) {
            case 0 -> F.nullNode();
            case 1 -> F.booleanNode(data.consumeBoolean());
            case 2 -> F.numberNode(data.consumeInt());
            case 3 -> F.numberNode(data.consumeLong());
            case 4 -> F.numberNode(data.pickValue(new Double[] {0.5, -1.0, 1e300, -0.0, 1.0000001, data.consumeDouble()}));
            case 5 -> F.numberNode(new java.math.BigInteger("1" + "0".repeat(data.consumeInt(1, 40))));
            case 6 -> F.textNode(data.consumeString(40));
            case 7 -> F.textNode(old == null ? "" : old.asText() + data.pickValue(new String[] {"x", ":", " ", "-1", ""}));
            case 8 -> F.arrayNode().add(old == null ? F.nullNode() : old.deepCopy());
            case 9 -> F.objectNode().set(data.consumeString(10), old == null ? F.nullNode() : old.deepCopy());
            case 10 -> old == null ? F.numberNode(data.consumeInt(-2, 70000)) : old.isNumber()
                    ? F.numberNode(data.pickValue(new Long[] {0L, -1L, 1L, 65535L, 65536L, (long) Integer.MAX_VALUE + 1,
                        old.asLong() + 1, old.asLong() - 1})) : old.deepCopy();
            default -> F.numberNode(data.consumeInt(-2, 70000));
        };
    }

    /**
     * Reads {@code text} as {@code type}: a value, or IllegalArgumentException whose message says
     * where (a line) and shows no parser internals; any other exception fails the fuzz test.
     */
    static <T> void check(byte[] text, Class<T> type) {
        try {
            if (Json.read(text, "fuzz.json", type) == null) {
                throw new AssertionError("read returned null");
            }
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            if (m == null || !WHERE.matcher(m).find()) {
                throw new AssertionError("message names no line: " + m, e);
            }
            String input = new String(text, StandardCharsets.UTF_8);
            for (String bad : INTERNALS) {
                if (m.contains(bad) && !input.contains(bad)) {  // (a key the document itself spells so is echoed)
                    throw new AssertionError("message shows '" + bad + "': " + m, e);
                }
            }
        }
    }
}
