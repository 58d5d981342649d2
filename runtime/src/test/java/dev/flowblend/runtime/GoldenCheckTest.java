package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The golden comparison's tolerance: relative to the output's scale, plus one ulp for 16-bit outputs. */
class GoldenCheckTest {
    private static final TensorSpec FP32 = new TensorSpec("y", DType.FP32, new long[] {-1, 4});
    private static final TensorSpec BF16 = new TensorSpec("y", DType.BF16, new long[] {-1, 4});

    private static Safetensors.Tensor tensor(DType type, float... v) {
        return new Safetensors.Tensor(type, new long[] {1, v.length}, buffer(type, v));
    }

    private static ByteBuffer buffer(DType type, float... v) {
        return ByteBuffer.wrap(Tensors.bytes(v, type)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void fp32_withinToleranceOfScale_passes_andBeyond_fails() {
        Safetensors.Tensor g = tensor(DType.FP32, 0f, 2f, -4f, 1f);  // scale 4: bound 4e-4
        GoldenCheck.Outcome ok = GoldenCheck.compare("m", FP32, g, buffer(DType.FP32, 0f, 2f, -4.0003f, 1f), 1e-4);
        assertTrue(ok.passed(), ok.toString());
        assertEquals(4.0, ok.scale());
        assertEquals(0, ok.beyondFp32Tolerance());
        GoldenCheck.Outcome bad = GoldenCheck.compare("m", FP32, g, buffer(DType.FP32, 0f, 2f, -4.0005f, 1f), 1e-4);
        assertFalse(bad.passed(), bad.toString());
        assertEquals(1, bad.beyondFp32Tolerance());
    }

    @Test
    void bf16_oneRoundingStepApart_passes_twoSteps_fails() {
        float v = 1.5f;
        float next = Tensors.fromBf16((short) (Tensors.toBf16(v) + 1));  // 1.5078125: one bf16 ulp up
        float twoUp = Tensors.fromBf16((short) (Tensors.toBf16(v) + 2));
        Safetensors.Tensor g = tensor(DType.BF16, v, 0f, 0f, 0f);
        GoldenCheck.Outcome one = GoldenCheck.compare("m", BF16, g, buffer(DType.BF16, next, 0f, 0f, 0f), 1e-4);
        assertTrue(one.passed(), one.toString());
        assertEquals(1, one.beyondFp32Tolerance(), "counted as beyond the FP32 tolerance, allowed by the ulp");
        assertFalse(GoldenCheck.compare("m", BF16, g, buffer(DType.BF16, twoUp, 0f, 0f, 0f), 1e-4).passed());
    }

    @Test
    void nanOutput_fails() {
        Safetensors.Tensor g = tensor(DType.FP32, 1f, 1f, 1f, 1f);
        assertFalse(GoldenCheck.compare("m", FP32, g, buffer(DType.FP32, 1f, Float.NaN, 1f, 1f), 1e-4).passed());
    }

    @Test
    void toleranceOutOfRange_isRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GoldenCheck.run(null, RuntimeOptions.DEFAULT, 0));
        assertTrue(e.getMessage().contains("tolerance is 0.0"), e.getMessage());
    }
}
