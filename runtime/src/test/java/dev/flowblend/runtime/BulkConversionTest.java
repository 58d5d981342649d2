package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The chunked conversions agree element by element with the scalar ones, across chunk boundaries,
 * on heap, read-only and direct buffers, and the buffer forms of guidance are bitwise the array form.
 */
class BulkConversionTest {
    private static final int N = 3 * 4096 + 17;  // several chunks and a ragged end

    private static float[] values(long seed, int n) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            // wide range, both signs, subnormal halves, exact ties of BF16 and FP16 now and then
            a[i] = switch (i % 5) {
                case 0 -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
                case 1 -> Float.intBitsToFloat(r.nextInt() & 0xBFFFFFFF);  // finite: exponent below all ones
                case 2 -> Tensors.fromBf16((short) r.nextInt(0x7F00));
                case 3 -> Float.intBitsToFloat((Float.floatToRawIntBits(r.nextFloat()) & 0xFFFF0000) | 0x8000);
                default -> r.nextFloat() * 1e-6f;
            };
        }
        return a;
    }

    private static short scalar(float f, DType t) {
        return t == DType.BF16 ? Tensors.toBf16(f) : Tensors.toFp16(f);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void bytesAndFloats_matchTheScalarConversions_onEveryBufferKind(DType t) {
        float[] a = values(1, N);
        byte[] b = Tensors.bytes(a, t);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) {
            if (t == DType.FP32) {
                assertEquals(Float.floatToRawIntBits(a[i]), le.getInt(4 * i), "element " + i);
            } else {
                assertEquals(scalar(a[i], t), le.getShort(2 * i), "element " + i);
            }
        }
        float[] back = Tensors.floats(ByteBuffer.wrap(b), t);
        for (int i = 0; i < N; i++) {
            float want = t == DType.FP32 ? a[i] : t == DType.BF16 ? Tensors.fromBf16(le.getShort(2 * i))
                    : Tensors.fromFp16(le.getShort(2 * i));
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(back[i]), "element " + i);
        }
        assertArrayEquals(back, Tensors.floats(ByteBuffer.wrap(b).asReadOnlyBuffer(), t));
        assertArrayEquals(back, Tensors.floats(Tensors.direct(a, t), t));
        // a buffer whose position is not 0: only the remaining bytes, from the position
        ByteBuffer offset = ByteBuffer.allocate(b.length + 2 * t.bytes());
        offset.position(2 * t.bytes());
        offset.put(b).position(2 * t.bytes());
        assertArrayEquals(back, Tensors.floats(offset, t));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void firstNonFinite_findsTheFirstAcrossChunks(DType t) {
        float[] a = values(2, N);
        for (int i = 0; i < N; i++) {
            a[i] = Math.max(-100f, Math.min(100f, a[i]));  // finite in every type
        }
        assertEquals(-1, Tensors.firstNonFinite(ByteBuffer.wrap(Tensors.bytes(a, t)), t));
        for (int at : new int[] {0, 1, 4095, 4096, 4097, 4098, N - 2, N - 1}) {
            float[] bad = a.clone();
            bad[at] = at % 2 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
            if (at + 1 < N) {
                bad[at + 1] = Float.POSITIVE_INFINITY;
            }
            assertEquals(at, Tensors.firstNonFinite(ByteBuffer.wrap(Tensors.bytes(bad, t)).asReadOnlyBuffer(), t));
            assertEquals(at, Tensors.firstNonFinite(Tensors.direct(bad, t), t));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void guidanceOnBuffers_bitwiseTheArrayForm(DType t) {
        int samples = 2;
        int n = N;
        float[] both = Tensors.floats(ByteBuffer.wrap(Tensors.bytes(values(3, 2 * samples * n), t)), t);
        for (int i = 0; i < both.length; i++) {
            both[i] = Math.max(-100f, Math.min(100f, both[i]));
        }
        byte[] wire = Tensors.bytes(both, t);
        float[] exact = Tensors.floats(ByteBuffer.wrap(wire), t);  // what the wire holds
        float[] want = Guidance.combine(exact, samples, n, 4.5f);
        float[] got = Guidance.combine(ByteBuffer.wrap(wire).asReadOnlyBuffer(), t, samples, n, 4.5f);
        assertArrayEquals(want, got);
        ByteBuffer answered = Guidance.combineToBytes(ByteBuffer.wrap(wire), t, samples, n, 4.5f);
        assertEquals(0, answered.position());
        assertArrayEquals(Tensors.bytes(want, t), answered.array());
    }
}
