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

    @Test
    void load_tamperedModelFile_rejectedNamingFileAndBothChecksums(@TempDir Path dir) throws Exception {
        for (String f : List.of("manifest.json", "vocab.txt")) {
            Files.copy(BUNDLED.resolve(f), dir.resolve(f));
        }
        for (ModelEntry e : ModelFamily.load(BUNDLED).models()) {
            Files.copy(BUNDLED.resolve(e.file()), dir.resolve(e.file()));
        }
        Files.write(dir.resolve("decoder.onnx"), new byte[] {0}, StandardOpenOption.APPEND);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertTrue(ex.getMessage().contains("decoder.onnx has sha256"), ex.getMessage());
        assertTrue(ex.getMessage().contains("but the manifest says"), ex.getMessage());
    }

    @Test
    void load_directoryWithoutManifest_rejectedNamingIt(@TempDir Path dir) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ModelFamily.load(dir));
        assertTrue(ex.getMessage().startsWith("no manifest.json in model directory"), ex.getMessage());
    }
}
