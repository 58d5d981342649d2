package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
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

    /** A copy of the generated stand-in family (velocity models with external data) in {@code dir}. */
    private static Path standinCopy(Path dir) throws Exception {
        Path from = StandinFamily.get(DType.BF16).dir();
        try (var files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    /** Sets models[1] (velocity-large) external_data[0].{key} in dir's manifest. */
    private static void editExternalData(Path dir, String key, String value) throws Exception {
        Path manifest = dir.resolve("manifest.json");
        ObjectNode root = (ObjectNode) Json.mapper().readTree(manifest.toFile());
        assertEquals("velocity-large", root.get("models").get(1).get("name").asText());
        ObjectNode ext = (ObjectNode) root.get("models").get(1).get("external_data").get(0);
        if (value == null) {
            ext.remove(key);
        } else {
            ext.put(key, value);
        }
        Json.mapper().writeValue(manifest.toFile(), root);
    }

    @Test
    void load_externalDataFileMissing_rejectedNamingModelAndFile(@TempDir Path dir) throws Exception {
        Path data = standinCopy(dir).resolve("velocity-large.onnx.data");
        Files.delete(data);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("model 'velocity-large': external data file " + data + " does not exist", ex.getMessage());
    }

    @Test
    void load_externalDataOneByteFlipped_rejectedNamingFileAndBothChecksums(@TempDir Path dir) throws Exception {
        Path data = standinCopy(dir).resolve("velocity-large.onnx.data");
        String expected = ModelFamily.sha256(data);
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = ch.size() / 2;
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x01)}), at);
        }
        String actual = ModelFamily.sha256(data);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("model 'velocity-large': external data file " + data + " has sha256 " + actual
                + " but the manifest says " + expected, ex.getMessage());
    }

    @Test
    void load_externalDataPathLeavingTheDirectory_rejectedNamingField(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("family"));
        standinCopy(dir);
        Files.copy(dir.resolve("velocity-large.onnx.data"), tmp.resolve("x.data"));  // present, still refused
        editExternalData(dir, "file", "../x.data");
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("model 'velocity-large': models[1].external_data[0].file is '../x.data', which leaves the model "
                + "directory; it must be a relative path inside the model directory " + dir.toAbsolutePath(),
                ex.getMessage());
    }

    @Test
    void load_externalDataAbsolutePath_rejectedNamingField(@TempDir Path dir) throws Exception {
        String absolute = standinCopy(dir).resolve("velocity-large.onnx.data").toAbsolutePath().toString();
        editExternalData(dir, "file", absolute);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertTrue(ex.getMessage().startsWith("model 'velocity-large': models[1].external_data[0].file is '"
                + absolute + "', an absolute path; it must be a relative path"), ex.getMessage());
    }

    @Test
    void load_externalDataWithoutChecksum_rejectedNamingField(@TempDir Path dir) throws Exception {
        editExternalData(standinCopy(dir), "sha256", null);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertEquals("model 'velocity-large': models[1].external_data[0].sha256 is missing; every external data file "
                + "needs its checksum", ex.getMessage());
    }
}
