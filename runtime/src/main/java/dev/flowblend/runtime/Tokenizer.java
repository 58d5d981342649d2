package dev.flowblend.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whitespace tokenizer over the family's vocabulary file (one word per line, line index = id).
 * Prompts are lower-cased, split on whitespace and padded with the pad id to max_tokens; the
 * empty prompt is the null prompt. Immutable and thread-safe.
 */
public final class Tokenizer {
    private final Map<String, Long> ids;
    private final int maxTokens;
    private final long padId;

    Tokenizer(List<String> vocabulary, int maxTokens, long padId) {
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("text.max_tokens is " + maxTokens + "; must be > 0");
        }
        this.ids = new HashMap<>();
        for (int i = 0; i < vocabulary.size(); i++) {
            ids.putIfAbsent(vocabulary.get(i), (long) i);
        }
        this.maxTokens = maxTokens;
        this.padId = padId;
    }

    public static Tokenizer load(ModelFamily family) {
        Manifest.TextSpec t = family.manifest().text();
        if (t == null) {
            throw new IllegalArgumentException("manifest has no 'text' section");
        }
        Path vocab = family.dir().resolve(t.vocabulary());
        try {
            return new Tokenizer(Files.readAllLines(vocab), t.maxTokens(), t.padId());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read vocabulary " + vocab + ": " + e.getMessage(), e);
        }
    }

    public int maxTokens() {
        return maxTokens;
    }

    public int vocabularySize() {
        return ids.size();
    }

    /** Token ids padded to max_tokens. */
    public long[] encode(String prompt) throws PromptException {
        String[] words = prompt.toLowerCase(Locale.ROOT).trim().split("\\s+");
        int n = words.length == 1 && words[0].isEmpty() ? 0 : words.length;
        if (n > maxTokens) {
            throw new PromptException("has " + n + " words; the limit is " + maxTokens);
        }
        long[] out = new long[maxTokens];
        java.util.Arrays.fill(out, padId);
        for (int i = 0; i < n; i++) {
            Long id = ids.get(words[i]);
            if (id == null || id == padId) {
                throw new PromptException("has unknown word '" + words[i] + "' (vocabulary: " + ids.size()
                        + " words, see the family's vocabulary file)");
            }
            out[i] = id;
        }
        return out;
    }

    /** A prompt the vocabulary cannot express; the message completes "prompt ...". */
    public static final class PromptException extends Exception {
        private static final long serialVersionUID = 1L;

        PromptException(String message) {
            super(message);
        }
    }
}
