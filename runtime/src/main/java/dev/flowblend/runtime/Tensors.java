package dev.flowblend.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversions between Java arrays and little-endian tensor bytes (the OIP raw layout). */
public final class Tensors {
    private Tensors() {
    }

    /** A direct native-order buffer holding {@code a}, ready for ONNX Runtime without a copy. */
    public static ByteBuffer direct(float[] a) {
        ByteBuffer b = ByteBuffer.allocateDirect(a.length * Float.BYTES).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(a);
        return b;
    }

    public static ByteBuffer direct(long[] a) {
        ByteBuffer b = ByteBuffer.allocateDirect(a.length * Long.BYTES).order(ByteOrder.nativeOrder());
        b.asLongBuffer().put(a);
        return b;
    }

    /** Little-endian bytes of {@code a} in a heap buffer (for protobuf). */
    public static byte[] bytes(float[] a) {
        ByteBuffer b = ByteBuffer.allocate(a.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        return b.array();
    }

    public static byte[] bytes(long[] a) {
        ByteBuffer b = ByteBuffer.allocate(a.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(a);
        return b.array();
    }

    /** Reads little-endian floats from the buffer's remaining bytes (position unchanged). */
    public static float[] floats(ByteBuffer b) {
        float[] a = new float[b.remaining() / Float.BYTES];
        b.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
        return a;
    }

    /** Index of the first NaN or infinite element, or -1. */
    public static int firstNonFinite(ByteBuffer littleEndianFloats) {
        var f = littleEndianFloats.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (int i = 0, n = f.remaining(); i < n; i++) {
            if (!Float.isFinite(f.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
