package dev.flowblend.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Classifier-free guidance, v = v_u + g * (v_c - v_u), in one float order for every place that
 * applies it (the orchestrator for workers that return both branches, in-process backends, and
 * workers that apply it themselves), so all of them give bitwise the same velocity. Stateless.
 */
public final class Guidance {
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private Guidance() {
    }

    /** One guided value. */
    public static float guided(float uncond, float cond, float g) {
        return uncond + g * (cond - uncond);
    }

    /**
     * Guided velocities of {@code samples} samples of {@code n} values each from a batch laid out
     * [cond_1..cond_S, uncond_1..uncond_S] (2 * samples * n values).
     */
    public static float[] combine(float[] both, int samples, int n, float g) {
        int total = samples * n;
        if (both.length != 2 * total) {
            throw new IllegalArgumentException("a guided batch of " + samples + " samples of " + n + " values has "
                    + 2 * total + " values; got " + both.length);
        }
        float[] out = new float[total];
        for (int i = 0; i < total; i++) {
            out[i] = guided(both[total + i], both[i], g);
        }
        return out;
    }

    /**
     * {@link #combine(float[], int, int, float)} read straight from the little-endian {@code type}
     * elements of {@code both} (its remaining bytes; position unchanged), widened as they are read:
     * one pass, no array of both branches. Bitwise the same values.
     */
    public static float[] combine(ByteBuffer both, DType type, int samples, int n, float g) {
        ByteBuffer d = both.duplicate().order(ByteOrder.LITTLE_ENDIAN).slice().order(ByteOrder.LITTLE_ENDIAN);
        int total = check(d, type, samples, n);
        float[] out = new float[total];
        switch (type) {
            case FP32 -> {
                var f = d.asFloatBuffer();
                for (int i = 0; i < total; i++) {
                    out[i] = guided(f.get(total + i), f.get(i), g);
                }
            }
            case BF16 -> {
                var s = d.asShortBuffer();
                for (int i = 0; i < total; i++) {
                    out[i] = guided(Tensors.fromBf16(s.get(total + i)), Tensors.fromBf16(s.get(i)), g);
                }
            }
            default -> {
                var s = d.asShortBuffer();
                for (int i = 0; i < total; i++) {
                    out[i] = guided(Tensors.fromFp16(s.get(total + i)), Tensors.fromFp16(s.get(i)), g);
                }
            }
        }
        return out;
    }

    /**
     * The guided velocities of {@code both} (as {@link #combine(ByteBuffer, DType, int, int, float)})
     * as little-endian {@code type} elements in a new heap buffer, rounded as {@link Tensors#bytes}
     * rounds: what a worker that applies guidance answers. One pass, no float arrays.
     */
    public static ByteBuffer combineToBytes(ByteBuffer both, DType type, int samples, int n, float g) {
        if (type == DType.FP32) {
            return ByteBuffer.wrap(Tensors.bytes(combine(both, type, samples, n, g))).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer d = both.duplicate().order(ByteOrder.LITTLE_ENDIAN).slice().order(ByteOrder.LITTLE_ENDIAN);
        int total = check(d, type, samples, n);
        byte[] out = new byte[total * 2];
        var s = d.asShortBuffer();
        if (type == DType.BF16) {
            for (int i = 0; i < total; i++) {
                float v = guided(Tensors.fromBf16(s.get(total + i)), Tensors.fromBf16(s.get(i)), g);
                SHORT_LE.set(out, 2 * i, Tensors.toBf16(v));
            }
        } else {
            for (int i = 0; i < total; i++) {
                float v = guided(Tensors.fromFp16(s.get(total + i)), Tensors.fromFp16(s.get(i)), g);
                SHORT_LE.set(out, 2 * i, Tensors.toFp16(v));
            }
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int check(ByteBuffer d, DType type, int samples, int n) {
        int total = Math.multiplyExact(samples, n);
        if (!type.floating() || d.remaining() != 2L * total * type.bytes()) {
            throw new IllegalArgumentException("a guided batch of " + samples + " samples of " + n + " " + type
                    + " values has " + 2L * total * type.bytes() + " bytes; got " + d.remaining());
        }
        return total;
    }
}
