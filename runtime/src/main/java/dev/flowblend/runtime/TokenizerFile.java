package dev.flowblend.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What flowblend reads from a Hugging Face tokenizer.json itself, without the native library: the
 * model type, the vocabulary size (one more than the largest id of the model's vocabulary and of
 * {@code added_tokens}: the ids a tokenizer can produce are {@code [0, vocabularySize)}) and the
 * unknown token's id ({@code model.unk_id} for Unigram, the id of {@code model.unk_token} for
 * WordLevel, WordPiece and BPE; -1 when the model has none). The document is streamed, so a large
 * vocabulary (umT5's 256k pieces) is counted, not held. Immutable.
 */
record TokenizerFile(String modelType, int vocabularySize, long unkId) {
    private static final JsonFactory JSON = new JsonFactory();

    static TokenizerFile read(Path file) {
        try {
            return parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer " + file + ": " + e, e);
        }
    }

    /** {@code source} (the file's name) starts every message. */
    static TokenizerFile parse(byte[] json, String source) {
        try (JsonParser p = JSON.createParser(json)) {
            return parse(p, source);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("tokenizer " + source + " is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer " + source + ": " + e, e);
        }
    }

    private static TokenizerFile parse(JsonParser p, String source) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new IllegalArgumentException("tokenizer " + source + " is not a JSON object");
        }
        Map<String, Long> added = new HashMap<>();
        Model model = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    addedToken(p, source, added);
                }
            } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
                model = model(p, source);
            } else {
                p.skipChildren();
            }
        }
        if (model == null) {
            throw new IllegalArgumentException("tokenizer " + source + " has no 'model' object");
        }
        long max = model.maxId;
        for (long id : added.values()) {
            max = Math.max(max, id);
        }
        if (max + 1 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tokenizer " + source + " has token id " + max + "; too large");
        }
        long unk = -1;
        if (model.type.equals("Unigram")) {
            unk = model.unkId;
            if (unk > model.maxId) {
                throw new IllegalArgumentException("tokenizer " + source + " model.unk_id is " + unk + "; the vocabulary has "
                        + (model.maxId + 1) + " pieces");
            }
        } else if (model.unkToken != null) {
            Long id = model.vocab.containsKey(model.unkToken) ? model.vocab.get(model.unkToken) : added.get(model.unkToken);
            if (id == null) {
                throw new IllegalArgumentException("tokenizer " + source + " model.unk_token '" + model.unkToken
                        + "' is not in its vocabulary");
            }
            unk = id;
        }
        return new TokenizerFile(model.type, (int) (max + 1), unk);
    }

    private static void addedToken(JsonParser p, String source, Map<String, Long> added) throws IOException {
        Long id = null;
        String content = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            if (f.equals("id") && v == JsonToken.VALUE_NUMBER_INT) {
                id = p.getLongValue();
            } else if (f.equals("content") && v == JsonToken.VALUE_STRING) {
                content = p.getText();
            } else {
                p.skipChildren();
            }
        }
        if (id == null || id < 0 || content == null) {
            throw new IllegalArgumentException("tokenizer " + source + " has an added_tokens entry without a "
                    + "non-negative 'id' and a 'content'");
        }
        added.put(content, id);
    }

    /** The parts of "model" we need; the vocabulary map is kept only while the unknown token is not yet known. */
    private static final class Model {
        String type;
        String unkToken;
        boolean unkTokenSeen;
        long unkId = -1;
        long maxId = -1;
        final Map<String, Long> vocab = new HashMap<>();
    }

    private static Model model(JsonParser p, String source) throws IOException {
        Model m = new Model();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            switch (f) {
                case "type" -> m.type = v == JsonToken.VALUE_STRING ? p.getText() : null;
                case "unk_token" -> {
                    m.unkToken = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    m.unkTokenSeen = true;
                }
                case "unk_id" -> m.unkId = v == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : -1;
                case "vocab" -> vocab(p, v, m, source);
                default -> p.skipChildren();
            }
        }
        if (m.type == null) {
            throw new IllegalArgumentException("tokenizer " + source + " has no model.type");
        }
        if (!java.util.Set.of("WordLevel", "WordPiece", "BPE", "Unigram").contains(m.type)) {
            throw new IllegalArgumentException("tokenizer " + source + " model.type is '" + m.type
                    + "'; flowblend reads WordLevel, WordPiece, BPE and Unigram tokenizers");
        }
        if (m.maxId < 0) {
            throw new IllegalArgumentException("tokenizer " + source + " has an empty or missing model.vocab");
        }
        return m;
    }

    /** A map token to id (WordLevel, WordPiece, BPE) or a list of [piece, score] whose index is the id (Unigram). */
    private static void vocab(JsonParser p, JsonToken v, Model m, String source) throws IOException {
        if (v == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
                    throw new IllegalArgumentException("tokenizer " + source + " model.vocab['" + token
                            + "'] is not a non-negative integer id");
                }
                long id = p.getLongValue();
                m.maxId = Math.max(m.maxId, id);
                if (!m.unkTokenSeen || token.equals(m.unkToken)) {
                    m.vocab.put(token, id);
                }
            }
        } else if (v == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                p.skipChildren();
                m.maxId++;
            }
        } else {
            throw new IllegalArgumentException("tokenizer " + source + " model.vocab is neither an object nor an array");
        }
    }
}
