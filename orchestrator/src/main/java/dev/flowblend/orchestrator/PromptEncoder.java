package dev.flowblend.orchestrator;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.flowblend.runtime.TokenizedPrompt;
import dev.flowblend.runtime.Tokenizer;

/**
 * Prompt to conditioning: tokenize with the family's tokenizer, run the text encoder (on the
 * backend, i.e. the pool that hosts it), and cache the resulting contexts with Caffeine, keyed by
 * the tokenized prompt (ids and mask), so repeated prompts skip the encoder. Thread-safe. Borrows
 * its tokenizer: whoever made it closes it, once this encoder is no longer used.
 */
public final class PromptEncoder {
    private final Tokenizer tokenizer;
    private final Cache<TokenizedPrompt, float[]> cache;

    public PromptEncoder(Tokenizer tokenizer, long cacheEntries) {
        this.tokenizer = tokenizer;
        this.cache = Caffeine.newBuilder().maximumSize(cacheEntries).recordStats().build();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The prompt's ids and mask; the exception message names the problem ("has unknown word 'x'"). */
    public TokenizedPrompt tokens(String prompt) throws Tokenizer.PromptException {
        return tokenizer.encode(prompt);
    }

    /** Conditioning for a generation: [cond, uncond] with guidance, [cond] without. */
    public Conditioning encode(Backend backend, TokenizedPrompt prompt, TokenizedPrompt negative, boolean guidance)
            throws BackendException {
        float[] cond = context(backend, prompt);
        if (!guidance) {
            return Conditioning.of(cond, 1);
        }
        float[] uncond = context(backend, negative);
        float[] both = new float[cond.length * 2];
        System.arraycopy(cond, 0, both, 0, cond.length);
        System.arraycopy(uncond, 0, both, cond.length, uncond.length);
        return Conditioning.of(both, 2);
    }

    /**
     * Conditioning for several samples sharing one negative prompt: [cond_1..cond_S, uncond x S]
     * with guidance, [cond_1..cond_S] without (the layout {@link Sampler} expects).
     */
    public Conditioning encodeBatch(Backend backend, java.util.List<TokenizedPrompt> prompts, TokenizedPrompt negative,
                                    boolean guidance)
            throws BackendException {
        int s = prompts.size();
        float[] first = context(backend, prompts.get(0));
        int len = first.length;
        float[] all = new float[len * s * (guidance ? 2 : 1)];
        for (int i = 0; i < s; i++) {
            System.arraycopy(context(backend, prompts.get(i)), 0, all, i * len, len);
        }
        if (guidance) {
            float[] uncond = context(backend, negative);
            for (int i = 0; i < s; i++) {
                System.arraycopy(uncond, 0, all, (s + i) * len, len);
            }
        }
        return Conditioning.of(all, guidance ? 2 * s : s);
    }

    private float[] context(Backend backend, TokenizedPrompt prompt) throws BackendException {
        float[] hit = cache.getIfPresent(prompt);
        if (hit != null) {
            return hit;
        }
        float[] ctx = backend.encodeText(prompt.ids(), prompt.mask(), 1);
        cache.put(prompt, ctx);
        return ctx;
    }

    public double hitRate() {
        return cache.stats().hitRate();
    }

    long hits() {
        return cache.stats().hitCount();
    }

    long misses() {
        return cache.stats().missCount();
    }
}
