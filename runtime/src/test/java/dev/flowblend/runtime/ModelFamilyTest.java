package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFamilyTest {
    private static final Path BUNDLED = ModelFamily.defaultDirectory();

    @Test
    void load_bundledFamily_everyChecksumMatchesAndAllRolesPresent() {
        ModelFamily f = ModelFamily.load(BUNDLED);
        for (ModelEntry e : f.models()) {
            assertEquals(e.sha256(), ModelFamily.sha256(f.path(e)), e.name());
        }
        for (String role : List.of(ModelFamily.ROLE_TEXT_ENCODER, ModelFamily.ROLE_DECODER,
                ModelFamily.ROLE_VELOCITY_LARGE, ModelFamily.ROLE_VELOCITY_SMALL, ModelFamily.ROLE_EVALUATOR)) {
            assertEquals(role, f.byRole(role).role());
        }
    }

    @Test
    void load_bundledFamily_smallToLargeFlopsWithinOneFifteenthToOneFifth() {
        ModelFamily f = ModelFamily.load(BUNDLED);
        double ratio = (double) f.byRole(ModelFamily.ROLE_VELOCITY_SMALL).flopsPerSample()
                / f.byRole(ModelFamily.ROLE_VELOCITY_LARGE).flopsPerSample();
        assertTrue(ratio >= 1.0 / 15 && ratio <= 1.0 / 5, "small/large FLOPs ratio " + ratio);
    }

    /** The bundled family's manifest, tokenizer and models, copied to {@code dir}. */
    private static void copyBundled(Path dir) throws Exception {
        for (String f : List.of("manifest.json", "tokenizer.json")) {
            Files.copy(BUNDLED.resolve(f), dir.resolve(f));
        }
        for (ModelEntry e : ModelFamily.load(BUNDLED).models()) {
            Files.copy(BUNDLED.resolve(e.file()), dir.resolve(e.file()));
        }
    }

    @Test
    void load_tamperedModelFile_rejectedNamingFileAndBothChecksums(@TempDir Path dir) throws Exception {
        copyBundled(dir);
        Files.write(dir.resolve("decoder.onnx"), new byte[] {0}, StandardOpenOption.APPEND);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertTrue(ex.getMessage().contains("decoder.onnx has sha256"), ex.getMessage());
        assertTrue(ex.getMessage().contains("but the manifest says"), ex.getMessage());
    }

    @Test
    void load_tamperedTokenizer_rejectedNamingFileActualAndExpected(@TempDir Path dir) throws Exception {
        copyBundled(dir);
        Files.writeString(dir.resolve("tokenizer.json"), " ", StandardOpenOption.APPEND);
        String actual = ModelFamily.sha256(dir.resolve("tokenizer.json"));
        String expected = ModelFamily.load(BUNDLED).manifest().text().tokenizerSha256();
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("text.tokenizer: " + dir.resolve("tokenizer.json") + " has sha256 " + actual
                + " but the manifest says " + expected, ex.getMessage());
    }

    @Test
    void load_missingTokenizer_rejectedNamingTheFile(@TempDir Path dir) throws Exception {
        copyBundled(dir);
        Files.delete(dir.resolve("tokenizer.json"));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("text.tokenizer: file " + dir.resolve("tokenizer.json") + " does not exist", ex.getMessage());
    }

    @Test
    void load_manifestWithoutTokenizerChecksum_rejectedGivingTheActualOne(@TempDir Path dir) throws Exception {
        copyBundled(dir);
        Path m = dir.resolve("manifest.json");
        String expected = ModelFamily.load(BUNDLED).manifest().text().tokenizerSha256();
        Files.writeString(m, Files.readString(m).replace("\"tokenizer_sha256\": \"" + expected + "\",", ""));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("text.tokenizer_sha256 is missing; " + dir.resolve("tokenizer.json") + " has sha256 " + expected,
                ex.getMessage());
    }

    @Test
    void textSpec_badValues_refusedNamingKeyAndLimit() {
        assertEquals("text.max_tokens is 0; must be >= 1", assertThrows(IllegalArgumentException.class,
                () -> new Manifest.TextSpec("tokenizer.json", null, 0, 0, 64, "")).getMessage());
        assertEquals("text.pad_id is -1; must be >= 0", assertThrows(IllegalArgumentException.class,
                () -> new Manifest.TextSpec("tokenizer.json", null, 16, -1, 64, "")).getMessage());
        assertEquals("text.tokenizer is missing; name the family's tokenizer.json", assertThrows(
                IllegalArgumentException.class, () -> new Manifest.TextSpec(null, null, 16, 0, 64, "")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Manifest.TextSpec("t.json", "abc", 16, 0, 64, ""))
                .getMessage().startsWith("text.tokenizer_sha256 is 'abc'; must be 64 hex digits"));
    }

    @Test
    void load_directoryWithoutManifest_rejectedNamingIt(@TempDir Path dir) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertTrue(ex.getMessage().startsWith("no manifest.json in model directory"), ex.getMessage());
    }
}
