package dev.flowblend.runtime;

import java.util.Arrays;

/**
 * A prompt as the text encoder takes it: {@code ids} padded with the family's pad id to
 * text.max_tokens, and {@code mask} of the same length, 1 for each of the prompt's tokens (special
 * tokens the tokenizer appends included) and 0 for padding. Immutable: both arrays are copied in
 * and out. Equal when both arrays are equal, so it can key a cache.
 */
public record TokenizedPrompt(long[] ids, long[] mask) {
    public TokenizedPrompt {
        if (ids == null || mask == null) {
            throw new IllegalArgumentException("a tokenized prompt needs ids and mask");
        }
        if (ids.length != mask.length) {
            throw new IllegalArgumentException("tokenized prompt has " + ids.length + " ids but " + mask.length
                    + " mask values; they must have the same length");
        }
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != 0 && mask[i] != 1) {
                throw new IllegalArgumentException("mask[" + i + "] is " + mask[i] + "; must be 0 or 1");
            }
        }
        ids = ids.clone();
        mask = mask.clone();
    }

    @Override
    public long[] ids() {
        return ids.clone();
    }

    @Override
    public long[] mask() {
        return mask.clone();
    }

    /** How many positions hold tokens (mask 1). */
    public int tokens() {
        int n = 0;
        for (long m : mask) {
            n += (int) m;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedPrompt p && Arrays.equals(p.ids, ids) && Arrays.equals(p.mask, mask);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(mask);
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[ids=" + Arrays.toString(ids) + ", mask=" + Arrays.toString(mask) + "]";
    }
}
