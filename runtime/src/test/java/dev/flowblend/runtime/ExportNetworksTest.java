package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The self-tests of models/export's networks, run in the suite: for the WAN transformer, the causal
 * VAE and umT5, parameter names and shapes equal the published checkpoints' (by config), the
 * one-pass causal decode equals the reference's frame-by-frame cached loop, the ONNX graph bakes no
 * size, strict loading round-trips bitwise, rows of a batch are independent.
 */
class ExportNetworksTest {
    @ParameterizedTest
    @ValueSource(strings = {"test_wan_transformer.py", "test_wan_vae.py", "test_umt5.py"})
    void networkSelfTest_passes(String script) {
        String path = ModelFamily.defaultDirectory().resolve("export").resolve(script).toAbsolutePath().toString();
        PythonScripts.Outcome o = PythonScripts.run(WanExport.python(), List.of(path), 10);
        assertEquals(0, o.exitCode(), o.output());
        assertTrue(o.output().contains("all checks passed"), o.output());
    }
}
