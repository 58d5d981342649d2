package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    /** models/vocab.txt before tokenizer.json replaced it: line index = id, what the text encoder was trained on. */
    private static final List<String> OLD_VOCAB = List.of("<pad>", "a", "the", "moving", "going", "to", "red", "green",
            "blue", "yellow", "cyan", "magenta", "circle", "square", "triangle", "left", "right", "up", "down");
    /** The test Unigram tokenizer's ids (see the resource): 0 pad, 1 eos, 2 unk, 3..258 bytes, then pieces. */
    private static final long EOS = 1;
    private static final long BYTES = 3;
    private static final long A = 260;
    private static final long RED = 261;
    private static final long CIRCLE = 262;

    private static ModelFamily family;
    private static Tokenizer bundled;
    private static Tokenizer unigram;

    @BeforeAll
    static void load() throws IOException {
        family = ModelFamily.load(ModelFamily.defaultDirectory());
        bundled = Tokenizer.load(family);
        unigram = new Tokenizer(resource("unigram-byte-fallback.json"), "unigram-byte-fallback.json", 128, 0);
    }

    @AfterAll
    static void close() {
        bundled.close();
        unigram.close();
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = TokenizerTest.class.getResourceAsStream("/tokenizers/" + name)) {
            return in.readAllBytes();
        }
    }

    private static long[] padded(int length, long pad, long... ids) {
        long[] out = new long[length];
        Arrays.fill(out, pad);
        System.arraycopy(ids, 0, out, 0, ids.length);
        return out;
    }

    @Test
    void bundled_everyVocabularyWord_encodesToItsOldLineIndex() throws Exception {
        assertEquals(OLD_VOCAB.size(), bundled.vocabularySize());
        assertEquals(OLD_VOCAB.size(), Tokenizer.vocabularySize(family));
        for (int i = 1; i < OLD_VOCAB.size(); i++) {
            TokenizedPrompt p = bundled.encode(OLD_VOCAB.get(i));
            assertArrayEquals(padded(16, 0, i), p.ids(), OLD_VOCAB.get(i));
            assertArrayEquals(padded(16, 0, 1), p.mask(), OLD_VOCAB.get(i));
        }
    }

    @Test
    void bundled_mixedCaseAndRepeatedSpaces_idsAsTheOldWhitespaceTokenizerGave() throws Exception {
        TokenizedPrompt p = bundled.encode("  A  Red\tcircle MOVING to the right ");
        assertArrayEquals(padded(16, 0, 1, 6, 12, 3, 5, 2, 16), p.ids());
        assertArrayEquals(padded(16, 0, 1, 1, 1, 1, 1, 1, 1), p.mask());
        assertEquals(7, p.tokens());
    }

    @Test
    void bundled_emptyPrompt_isTheNullPromptAllPaddingMaskZero() throws Exception {
        TokenizedPrompt empty = bundled.encode("");
        assertEquals(bundled.encode(family.manifest().text().nullPrompt()), empty);
        assertEquals(empty, bundled.encode(" \t "));
        assertArrayEquals(new long[16], empty.ids());
        assertArrayEquals(new long[16], empty.mask());
    }

    @Test
    void bundled_unknownWord_refusedNamingTheWord() {
        Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class,
                () -> bundled.encode("a purple circle"));
        assertEquals("has unknown word 'purple' (vocabulary: 19 tokens, see tokenizer.json)", e.getMessage());
    }

    @Test
    void bundled_unknownNonAsciiWords_namedWhole() {
        assertTrue(assertThrows(Tokenizer.PromptException.class, () -> bundled.encode("a rød circle"))
                .getMessage().startsWith("has unknown word 'rød' "));
        // beyond the BMP: the tokenizer's offsets count code points, Java strings UTF-16 units
        assertTrue(assertThrows(Tokenizer.PromptException.class, () -> bundled.encode("a \uD83D\uDE00x circle"))
                .getMessage().startsWith("has unknown word '\uD83D\uDE00x' "));
        // punctuation stays on its word, as with the whitespace tokenizer before
        assertTrue(assertThrows(Tokenizer.PromptException.class, () -> bundled.encode("a red, circle"))
                .getMessage().startsWith("has unknown word 'red,' "));
    }

    @Test
    void bundled_padTokenAsWord_refusedAsUnknown() {
        Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class, () -> bundled.encode("a <pad>"));
        assertTrue(e.getMessage().startsWith("has unknown word '<pad>' "), e.getMessage());
    }

    @Test
    void bundled_tooManyTokens_refusedNamingCountAndLimit() throws Exception {
        assertEquals(16, bundled.encode("a ".repeat(16)).tokens());
        Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class, () -> bundled.encode("a ".repeat(17)));
        assertEquals("has 17 tokens; the limit is 16", e.getMessage());
    }

    @Test
    void unigram_knownPieces_eosAppendedByPostProcessorThenPadding() throws Exception {
        TokenizedPrompt p = unigram.encode("a red circle");
        assertArrayEquals(padded(128, 0, A, RED, CIRCLE, EOS), p.ids());
        assertArrayEquals(padded(128, 0, 1, 1, 1, 1), p.mask());
        assertArrayEquals(padded(128, 0, EOS), unigram.encode("").ids(), "the null prompt is </s> alone");
    }

    @Test
    void unigram_unknownCharacters_becomeBytePieces() throws Exception {
        TokenizedPrompt p = unigram.encode("a é");
        // "▁a", "▁", then é as UTF-8 bytes C3 A9, then </s>
        assertArrayEquals(padded(128, 0, A, 259, BYTES + 0xC3, BYTES + 0xA9, EOS), p.ids());
    }

    @Test
    void unigram_anyUnicodeText_encodesWithoutErrorIdsInVocabularyMaskMatchingTokens() throws Exception {
        Random r = new Random(12);
        List<String> texts = new ArrayList<>(List.of("naïve café", "日本語のテキスト", "\uD83D\uDE00 \uD83C\uDDEB\uD83C\uDDF7",
                "e\u0301\u0302", "tab\there\nnewline", "\u0000\u0001\u007f", "<unk>x", "a\u00a0red\u2003circle"));
        for (int i = 0; i < 300; i++) {
            StringBuilder b = new StringBuilder();
            for (int c = r.nextInt(12); c >= 0; c--) {
                int cp;
                do {
                    cp = r.nextInt(4) == 0 ? r.nextInt(0x80) : r.nextInt(Character.MAX_CODE_POINT + 1);
                } while (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE);
                b.appendCodePoint(cp);
            }
            texts.add(b.toString());
        }
        for (String t : texts) {
            if (t.contains("<unk>")) {
                continue;  // the literal unknown token is refused as one (below)
            }
            TokenizedPrompt p = unigram.encode(t);
            long[] ids = p.ids();
            long[] mask = p.mask();
            int n = p.tokens();
            assertTrue(n >= 1 && ids[n - 1] == EOS, "ends with </s>: " + Arrays.toString(ids));
            for (int i = 0; i < ids.length; i++) {
                assertTrue(ids[i] >= 0 && ids[i] < unigram.vocabularySize(), "id " + ids[i] + " of " + t);
                assertEquals(i < n ? 1 : 0, mask[i], "mask is 1 exactly before the padding");
                assertTrue(i < n || ids[i] == 0, "padding is pad_id");
                assertTrue(ids[i] != 2, "no unknown token with byte fallback");
            }
        }
        assertTrue(assertThrows(Tokenizer.PromptException.class, () -> unigram.encode("<unk>x")).getMessage()
                .startsWith("has unknown word '<unk>"));
    }

    @Test
    void unigramWithoutByteFallback_unknownCharacters_refusedNamingTheWord() throws Exception {
        String json = new String(resource("unigram-byte-fallback.json"), StandardCharsets.UTF_8)
                .replace("\"byte_fallback\": true", "\"byte_fallback\": false");
        try (Tokenizer t = new Tokenizer(json.getBytes(StandardCharsets.UTF_8), "no-fallback.json", 16, 0)) {
            assertArrayEquals(padded(16, 0, A, RED, EOS), t.encode("a red").ids());
            Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class, () -> t.encode("a blue circle"));
            assertEquals("has unknown word 'blue' (vocabulary: 269 tokens, see no-fallback.json)", e.getMessage());
        }
    }

    @Test
    void unigram_tooManyTokensCountingTheEos_refused() {
        Tokenizer.PromptException e = assertThrows(Tokenizer.PromptException.class, () -> unigram.encode(String.join(" ", java.util.Collections.nCopies(128, "a"))));
        assertEquals("has 129 tokens; the limit is 128", e.getMessage());
    }

    @Test
    void encode_manyThreadsAtOnce_sameAnswersAsOneThread() throws Exception {
        List<String> prompts = List.of("a red circle moving right", "the blue square going to the left", "a cyan triangle up");
        List<TokenizedPrompt> expected = new ArrayList<>();
        for (String p : prompts) {
            expected.add(bundled.encode(p));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> all = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                int k = i % prompts.size();
                all.add(pool.submit(() -> bundled.encode(prompts.get(k)).equals(expected.get(k))));
            }
            for (Future<Boolean> f : all) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void encode_afterClose_illegalState() throws Exception {
        Tokenizer t = Tokenizer.load(family);
        t.close();
        t.close();  // idempotent
        assertThrows(IllegalStateException.class, () -> t.encode("a red circle"));
    }

    @Test
    void construct_padIdOutsideVocabulary_refusedNamingTheRange() throws Exception {
        byte[] json = resource("unigram-byte-fallback.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Tokenizer(json, "u.json", 16, 269));
        assertEquals("text.pad_id is 269; must be a token id of u.json, 0 to 268", e.getMessage());
    }

    @Test
    void vocabularySize_unigramFile_countsPiecesWithoutTheNativeLibrary() throws Exception {
        TokenizerFile f = TokenizerFile.parse(resource("unigram-byte-fallback.json"), "u.json");
        assertEquals(new TokenizerFile("Unigram", 269, 2), f);
        assertEquals(new TokenizerFile("WordLevel", 19, 0), TokenizerFile.read(family.tokenizerPath()));
    }

    @Test
    void vocabularySize_unkTokenMissingFromVocabulary_refusedNamingIt() {
        byte[] json = "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0}, \"unk_token\": \"[UNK]\"}}"
                .getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerFile.parse(json, "w.json"));
        assertEquals("tokenizer w.json model.unk_token '[UNK]' is not in its vocabulary", e.getMessage());
    }
}
