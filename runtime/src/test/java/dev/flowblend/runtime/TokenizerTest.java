package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    private final Tokenizer t = new Tokenizer(List.of("<pad>", "a", "red", "circle"), 4, 0);

    @Test
    void encode_knownWordsMixedCase_idsPaddedToMaxTokens() throws Exception {
        assertArrayEquals(new long[] {1, 2, 3, 0}, t.encode("A  Red circle"));
    }

    @Test
    void encode_emptyPrompt_allPadding() throws Exception {
        assertArrayEquals(new long[] {0, 0, 0, 0}, t.encode(""));
    }

    @Test
    void encode_unknownWord_errorNamesWord() {
        Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class, () -> t.encode("a blue circle"));
        assertEquals("has unknown word 'blue' (vocabulary: 4 words, see the family's vocabulary file)", e.getMessage());
    }

    @Test
    void encode_padTokenAsWord_rejectedAsUnknown() {
        assertThrows(Tokenizer.PromptException.class, () -> t.encode("a <pad>"));
    }

    @Test
    void encode_tooManyWords_errorNamesLimit() {
        Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class, () -> t.encode("a a a a a"));
        assertEquals("has 5 words; the limit is 4", e.getMessage());
    }
}
