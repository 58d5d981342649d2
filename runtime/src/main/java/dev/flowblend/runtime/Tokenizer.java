package dev.flowblend.runtime;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The family's Hugging Face tokenizer (text.tokenizer, a tokenizer.json) through DJL's native
 * binding ({@link TokenizerNative}: offline, the native library from the jar). What
 * {@link #encode} does, exactly:
 *
 * <ol>
 *   <li>the tokenizer.json's own pipeline: normalizer, pre-tokenizer, model, and the special
 *       tokens its post_processor adds (umT5's appends {@code </s>}; the bundled family's has none);
 *       its truncation and padding settings are ignored;</li>
 *   <li>more than text.max_tokens tokens, those special tokens included: refused ("has 17 tokens;
 *       the limit is 16"), never truncated;</li>
 *   <li>a token that is the model's unknown token (model.unk_id or model.unk_token) and was not
 *       added by the post_processor: refused, naming the word it came from. A tokenizer without
 *       one, or whose unknowns cannot occur (Unigram or BPE with byte_fallback: any text becomes
 *       pieces or bytes), never refuses a word. The bundled family's unknown token is its pad
 *       token, so any word outside its vocabulary is refused, as its text encoder never saw one;</li>
 *   <li>padded with text.pad_id to text.max_tokens; the mask is 1 for the tokens and 0 for padding.</li>
 * </ol>
 * The empty prompt is the null prompt (the unconditional branch): whatever the post_processor
 * makes of no text (nothing for the bundled family: all padding, mask all 0).
 *
 * <p>Thread-safe: {@link #encode} may run on any number of threads. Owns its native tokenizer:
 * whoever loads a Tokenizer closes it, after the last encode has returned; a later encode throws
 * IllegalStateException (close waits for encodes in flight).
 */
public final class Tokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer hf;
    private final String source;
    private final int maxTokens;
    private final long padId;
    private final long unkId;
    private final int vocabularySize;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;  // guarded by lock

    /** @param source the file's name, for messages */
    Tokenizer(byte[] json, String source, int maxTokens, long padId) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("text.max_tokens is " + maxTokens + "; must be >= 1");
        }
        TokenizerFile file = TokenizerFile.parse(json, source);
        if (padId < 0 || padId >= file.vocabularySize()) {
            throw new IllegalArgumentException("text.pad_id is " + padId + "; must be a token id of " + source
                    + ", 0 to " + (file.vocabularySize() - 1));
        }
        this.source = source;
        this.maxTokens = maxTokens;
        this.padId = padId;
        this.unkId = file.unkId();
        this.vocabularySize = file.vocabularySize();
        this.hf = TokenizerNative.create(json, source);
    }

    /** The family's tokenizer (text.tokenizer, max_tokens, pad_id); the caller owns and closes it. */
    public static Tokenizer load(ModelFamily family) {
        Manifest.TextSpec t = text(family);
        Path file = family.dir().resolve(t.tokenizer());
        return new Tokenizer(read(file), file.toString(), t.maxTokens(), t.padId());
    }

    /**
     * The number of token ids the family's tokenizer can produce (ids are {@code [0, size)}), read
     * from its tokenizer.json without the native library.
     */
    public static int vocabularySize(ModelFamily family) {
        return TokenizerFile.read(family.dir().resolve(text(family).tokenizer())).vocabularySize();
    }

    private static Manifest.TextSpec text(ModelFamily family) {
        Manifest.TextSpec t = family.manifest().text();
        if (t == null) {
            throw new IllegalArgumentException("manifest of model family '" + family.manifest().family()
                    + "' has no 'text' section");
        }
        return t;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer " + file + ": " + e, e);
        }
    }

    public int maxTokens() {
        return maxTokens;
    }

    public long padId() {
        return padId;
    }

    /** Ids this tokenizer produces are {@code [0, vocabularySize)}. */
    public int vocabularySize() {
        return vocabularySize;
    }

    /** The prompt's ids and mask, padded to max_tokens (see the class comment for every rule). */
    public TokenizedPrompt encode(String prompt) throws PromptException {
        Encoding e;
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("tokenizer " + source + " is closed");
            }
            e = run(prompt);
        } finally {
            lock.readLock().unlock();
        }
        long[] tokens = e.getIds();
        int n = tokens.length;
        if (n > maxTokens) {
            throw new PromptException("has " + n + " tokens; the limit is " + maxTokens);
        }
        long[] special = e.getSpecialTokenMask();
        for (int i = 0; i < n; i++) {
            if (tokens[i] == unkId && special[i] == 0) {
                throw new PromptException("has unknown word '" + word(prompt, e, i) + "' (vocabulary: "
                        + vocabularySize + " tokens, see " + Path.of(source).getFileName() + ")");
            }
        }
        long[] ids = new long[maxTokens];
        long[] mask = new long[maxTokens];
        Arrays.fill(ids, padId);
        System.arraycopy(tokens, 0, ids, 0, n);
        Arrays.fill(mask, 0, n, 1L);
        return new TokenizedPrompt(ids, mask);
    }

    private Encoding run(String prompt) {
        try {
            return hf.encode(prompt);
        } catch (RuntimeException ex) {  // the native tokenizer's own failure, not the prompt's
            throw new IllegalStateException("tokenizer " + source + " failed: " + ex.getMessage(), ex);
        }
    }

    /**
     * The prompt's text of the word token {@code i} belongs to (all tokens of the same pre-tokenized
     * word), trimmed. The tokenizer's offsets count code points of the prompt.
     */
    private static String word(String prompt, Encoding e, int i) {
        long[] words = e.getWordIds();
        CharSpan[] spans = e.getCharTokenSpans();
        int start = Integer.MAX_VALUE;
        int end = -1;
        for (int j = 0; j < spans.length; j++) {
            boolean same = j == i || (words[i] >= 0 && words[j] == words[i]);
            if (same && spans[j] != null) {
                start = Math.min(start, spans[j].getStart());
                end = Math.max(end, spans[j].getEnd());
            }
        }
        int points = prompt.codePointCount(0, prompt.length());
        if (end < 0 || start > end || end > points) {
            return e.getTokens()[i];
        }
        return prompt.substring(prompt.offsetByCodePoints(0, start), prompt.offsetByCodePoints(0, end)).trim();
    }

    /** Frees the native tokenizer once encodes in flight have returned. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                hf.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A prompt the tokenizer cannot express within the limits; the message completes "prompt ...". */
    public static final class PromptException extends Exception {
        private static final long serialVersionUID = 1L;

        PromptException(String message) {
            super(message);
        }
    }
}
