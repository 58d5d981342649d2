package dev.flowblend.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Conversions between Java arrays and little-endian tensor bytes (the OIP raw layout). Floating
 * tensors are held as {@code float[]} in Java whatever their element type: FP16 and BF16 are
 * widened exactly on the way in and rounded to nearest, ties to even, on the way out, so sampling
 * arithmetic stays FP32 and only storage and the wire are 16-bit. Stateless.
 */
public final class Tensors {
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private Tensors() {
    }

    /** A direct native-order buffer holding {@code a}, ready for ONNX Runtime without a copy. */
    public static ByteBuffer direct(float[] a) {
        return direct(a, DType.FP32);
    }

    /** A direct native-order buffer holding {@code a} as {@code type} elements (a floating type). */
    public static ByteBuffer direct(float[] a, DType type) {
        ByteBuffer b = ByteBuffer.allocateDirect(a.length * type.bytes()).order(ByteOrder.nativeOrder());
        put(b, a, type);
        b.flip();
        return b;
    }

    public static ByteBuffer direct(long[] a) {
        ByteBuffer b = ByteBuffer.allocateDirect(a.length * Long.BYTES).order(ByteOrder.nativeOrder());
        b.asLongBuffer().put(a);
        return b;
    }

    /** Little-endian bytes of {@code a} in a heap buffer (for protobuf). */
    public static byte[] bytes(float[] a) {
        return bytes(a, DType.FP32);
    }

    /** Little-endian bytes of {@code a} as {@code type} elements (a floating type). */
    public static byte[] bytes(float[] a, DType type) {
        if (type == DType.BF16 || type == DType.FP16) {  // straight into the array: no buffer view per element
            byte[] out = new byte[a.length * 2];
            writeHalves(out, 0, a, 0, a.length, type);
            return out;
        }
        ByteBuffer b = ByteBuffer.allocate(a.length * type.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        put(b, a, type);
        return b.array();
    }

    /**
     * {@code src[off..off+count)} as little-endian BF16 or FP16 elements into {@code dst} from byte
     * {@code at}, rounded to nearest, ties to even.
     */
    private static void writeHalves(byte[] dst, int at, float[] src, int off, int count, DType type) {
        if (type == DType.BF16) {
            for (int i = 0; i < count; i++) {
                SHORT_LE.set(dst, at + 2 * i, toBf16(src[off + i]));
            }
        } else if (type == DType.FP16) {
            for (int i = 0; i < count; i++) {
                SHORT_LE.set(dst, at + 2 * i, toFp16(src[off + i]));
            }
        } else {
            throw new IllegalArgumentException(type + " is not a 16-bit floating type");
        }
    }

    public static byte[] bytes(long[] a) {
        ByteBuffer b = ByteBuffer.allocate(a.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(a);
        return b.array();
    }

    private static void put(ByteBuffer b, float[] a, DType type) {
        switch (type) {
            case FP32 -> b.asFloatBuffer().put(a);
            case BF16 -> {
                var s = b.asShortBuffer();
                for (float f : a) {
                    s.put(toBf16(f));
                }
            }
            case FP16 -> {
                var s = b.asShortBuffer();
                for (float f : a) {
                    s.put(toFp16(f));
                }
            }
            default -> throw new IllegalArgumentException(type + " is not a floating type");
        }
        if (type == DType.FP32 || type == DType.BF16 || type == DType.FP16) {
            b.position(b.position() + a.length * type.bytes());
        }
    }

    /** Reads little-endian floats from the buffer's remaining bytes (position unchanged). */
    public static float[] floats(ByteBuffer b) {
        return floats(b, DType.FP32);
    }

    /** Reads little-endian {@code type} elements from the buffer's remaining bytes, widened to float (position unchanged). */
    public static float[] floats(ByteBuffer b, DType type) {
        ByteBuffer d = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] a = new float[d.remaining() / type.bytes()];
        switch (type) {
            case FP32 -> d.asFloatBuffer().get(a);
            case BF16 -> {
                var s = d.asShortBuffer();
                for (int i = 0; i < a.length; i++) {
                    a[i] = fromBf16(s.get(i));
                }
            }
            case FP16 -> {
                var s = d.asShortBuffer();
                for (int i = 0; i < a.length; i++) {
                    a[i] = fromFp16(s.get(i));
                }
            }
            default -> throw new IllegalArgumentException(type + " is not a floating type");
        }
        return a;
    }

    /** Index of the first NaN or infinite element, or -1. */
    public static int firstNonFinite(ByteBuffer littleEndianFloats) {
        return firstNonFinite(littleEndianFloats, DType.FP32);
    }

    /** Index of the first NaN or infinite {@code type} element, or -1 (always -1 for INT64). */
    public static int firstNonFinite(ByteBuffer littleEndian, DType type) {
        ByteBuffer d = littleEndian.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case FP32 -> {
                var f = d.asFloatBuffer();
                for (int i = 0, n = f.remaining(); i < n; i++) {
                    if (!Float.isFinite(f.get(i))) {
                        return i;
                    }
                }
            }
            case BF16, FP16 -> {
                // both keep the exponent in bits 14..7 (BF16) or 14..10 (FP16); all ones = Inf or NaN
                int mask = type == DType.BF16 ? 0x7F80 : 0x7C00;
                var s = d.asShortBuffer();
                int n = s.remaining();
                // four elements per long: a lane of (x & M) ^ M is zero exactly where an element is
                // non-finite, and (t - 0x0001..) & ~t & 0x8000.. is non-zero exactly when some lane is
                long m4 = mask * 0x0001000100010001L;
                var l = d.slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
                for (int k = 0, longs = n / 4; k < longs; k++) {
                    long t = (l.get(k) & m4) ^ m4;
                    if (((t - 0x0001000100010001L) & ~t & 0x8000800080008000L) != 0) {
                        return firstNonFinite(s, 4 * k, 4 * k + 4, mask);
                    }
                }
                return firstNonFinite(s, n / 4 * 4, n, mask);
            }
            default -> {
            }
        }
        return -1;
    }

    private static int firstNonFinite(java.nio.ShortBuffer s, int from, int to, int mask) {
        for (int i = from; i < to; i++) {
            if ((s.get(i) & mask) == mask) {
                return i;
            }
        }
        return -1;
    }

    /** The element at {@code index} of a little-endian floating tensor, widened (for error messages). */
    public static float element(ByteBuffer littleEndian, DType type, int index) {
        ByteBuffer d = littleEndian.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return switch (type) {
            case FP32 -> d.getFloat(d.position() + index * 4);
            case BF16 -> fromBf16(d.getShort(d.position() + index * 2));
            case FP16 -> fromFp16(d.getShort(d.position() + index * 2));
            default -> d.getLong(d.position() + index * 8);
        };
    }

    /** FP32 to BF16, rounding to nearest, ties to even; NaN stays a (quiet) NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** BF16 to FP32, exact. */
    public static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** FP32 to IEEE half, rounding to nearest, ties to even; beyond 65504 rounds to infinity. */
    public static short toFp16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) {
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));  // NaN, quiet
        }
        if (abs >= 0x477FF000) {  // rounds to beyond the largest half (65504): infinity
            return (short) (sign | 0x7C00);
        }
        if (abs >= 0x38800000) {  // normal half (|f| >= 2^-14)
            int exp = (abs >>> 23) - 127 + 15;
            int mant = abs & 0x7FFFFF;
            int h = (exp << 10) | (mant >>> 13);
            int rest = mant & 0x1FFF;
            if (rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1)) {
                h++;  // may carry into the exponent, which is still right
            }
            return (short) (sign | h);
        }
        if (abs < 0x33000000) {  // below half of the smallest subnormal (2^-25): zero
            return (short) sign;
        }
        // subnormal half: value = m * 2^-24
        int exp = abs >>> 23;
        int mant = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - exp;  // so that mant >>> shift is the value in units of 2^-24
        int h = mant >>> shift;
        int rest = mant & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || (rest == half && (h & 1) == 1)) {
            h++;
        }
        return (short) (sign | h);
    }

    /** IEEE half to FP32, exact. */
    public static float fromFp16(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
