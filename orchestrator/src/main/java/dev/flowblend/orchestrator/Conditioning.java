package dev.flowblend.orchestrator;

import dev.flowblend.runtime.Wire;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The text contexts of one generation's velocity batch: [cond, uncond] with guidance, [cond]
 * without. {@code id} is a content hash, so workers can cache it and any generation with the same
 * prompts reuses the cached copy. Immutable (the array is never written after construction).
 */
public record Conditioning(String id, float[] context, int batch) {

    public static Conditioning of(float[] context, int batch) {
        return new Conditioning(hash(context), context, batch);
    }

    private static String hash(float[] a) {
        ByteBuffer b = ByteBuffer.allocate(a.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        return Wire.contextId(b);
    }
}
