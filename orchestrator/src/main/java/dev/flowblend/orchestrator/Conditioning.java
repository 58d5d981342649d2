package dev.flowblend.orchestrator;

import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.Wire;
import java.nio.ByteBuffer;

/**
 * The text contexts of one generation's velocity batch: [cond, uncond] with guidance, [cond]
 * without. {@code id} is a content hash of the bytes sent to workers — the contexts as
 * {@code wire} elements (the velocity models' declared context type) — so workers can cache it,
 * check it, and any generation with the same prompts reuses the cached copy. Immutable (the array
 * is never written after construction).
 */
public record Conditioning(String id, float[] context, int batch, DType wire) {

    /** FP32 on the wire. */
    public Conditioning(String id, float[] context, int batch) {
        this(id, context, batch, DType.FP32);
    }

    public static Conditioning of(float[] context, int batch) {
        return of(context, batch, DType.FP32);
    }

    public static Conditioning of(float[] context, int batch, DType wire) {
        return new Conditioning(Wire.contextId(ByteBuffer.wrap(Tensors.bytes(context, wire))), context, batch, wire);
    }

    /** The same contexts sent as {@code type} elements (this one when it already is). */
    public Conditioning as(DType type) {
        return type == wire ? this : of(context, batch, type);
    }

    /** The bytes workers receive. */
    byte[] wireBytes() {
        return Tensors.bytes(context, wire);
    }
}
