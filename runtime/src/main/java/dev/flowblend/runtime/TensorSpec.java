package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Objects;

/**
 * One model input or output as the manifest declares it. The first dimension is the batch
 * dimension and is -1 (dynamic) for every flowblend model; the others are fixed.
 */
public record TensorSpec(String name, DType dtype, long[] shape) {

    public TensorSpec {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(dtype, () -> "tensor '" + name + "' dtype");
        if (shape == null || shape.length == 0) {
            throw new IllegalArgumentException("tensor '" + name + "' shape must have at least one dimension");
        }
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "' dimension " + i + " is " + shape[i]
                        + "; only the batch dimension may be dynamic");
            }
        }
        shape = shape.clone();
    }

    @JsonCreator
    static TensorSpec fromJson(@JsonProperty("name") String name, @JsonProperty("dtype") String dtype,
                               @JsonProperty("shape") long[] shape) {
        DType t = DType.parse(dtype);
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + name + "' has unsupported dtype '" + dtype + "'");
        }
        return new TensorSpec(name, t, shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Elements in one sample (all dimensions but the batch dimension). */
    public long sampleElements() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    public long sampleBytes() {
        return sampleElements() * dtype.bytes();
    }

    /** The concrete shape for a batch of {@code batch} samples. */
    public long[] withBatch(long batch) {
        long[] s = shape.clone();
        s[0] = batch;
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + ":" + dtype.wireName() + Arrays.toString(shape);
    }
}
