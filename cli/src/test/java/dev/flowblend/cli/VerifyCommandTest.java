package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.StandinFamily;
import dev.flowblend.runtime.WanExport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code flowblend verify}: an exported family's goldens pass in ONNX Runtime; a changed golden is refused. */
class VerifyCommandTest {
    @Test
    void exportedFamily_passesEveryGolden() {
        ModelFamily f = WanExport.get(DType.FP32);
        String[] r = CliRun.run("verify", "--models", f.dir().toString());
        assertEquals("0", r[0], r[1] + r[2]);
        for (String model : new String[] {"velocity-large.velocity", "velocity-small.velocity", "decoder.video",
                "text-encoder.context"}) {
            assertTrue(r[1].contains(model + ": PASS"), r[1]);
        }
    }

    @Test
    void goldenThatChanged_isRefusedNamingItsChecksum() throws Exception {
        ModelFamily f = WanExport.get(DType.FP32);
        Path copy = Files.createTempDirectory("verify-");
        try {
            try (var s = Files.walk(f.dir())) {
                for (Path p : s.toList()) {
                    Path to = copy.resolve(f.dir().relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(p, to);
                    }
                }
            }
            Path golden = copy.resolve("golden").resolve("decoder.safetensors");
            byte[] b = Files.readAllBytes(golden);
            b[b.length - 1] ^= 1;
            Files.write(golden, b);
            String[] r = CliRun.run("verify", "--models", copy.toString());
            assertEquals("1", r[0], r[1] + r[2]);
            assertTrue(r[2].contains("models[") && r[2].contains(".golden") && r[2].contains("sha256"), r[2]);
        } finally {
            StandinFamily.deleteTree(copy);
        }
    }
}
