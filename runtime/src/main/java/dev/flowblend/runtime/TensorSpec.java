package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One model input or output as the manifest declares it. The first dimension is the batch
 * dimension and is -1 (dynamic) for every flowblend model. The others are fixed integers or, for
 * a family with several video sizes, symbols (as ONNX's dim_param) that every declared size binds
 * ({@link VideoSize#binding}): {@code [-1, 16, "latent_frames", "latent_height", "latent_width"]}.
 * In the manifest a symbol is a string; here its dimension is -1 and {@link #symbol} names it.
 */
public record TensorSpec(String name, DType dtype, long[] shape, String[] symbols) {

    public TensorSpec {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(dtype, () -> "tensor '" + name + "' dtype");
        if (shape == null || shape.length == 0) {
            throw new IllegalArgumentException("tensor '" + name + "' shape must have at least one dimension");
        }
        symbols = symbols == null ? new String[shape.length] : symbols.clone();
        if (symbols.length != shape.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + symbols.length + " symbols for "
                    + shape.length + " dimensions");
        }
        for (int i = 1; i < shape.length; i++) {
            if (symbols[i] == null && shape[i] <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "' dimension " + i + " is " + shape[i]
                        + "; only the batch dimension may be -1 (a size-dependent dimension is a symbol such as "
                        + "\"latent_frames\")");
            }
            if (symbols[i] != null) {
                shape[i] = -1;
            }
        }
        shape = shape.clone();
    }

    /** A tensor whose dimensions after the batch are all fixed. */
    public TensorSpec(String name, DType dtype, long[] shape) {
        this(name, dtype, shape, null);
    }

    @JsonCreator
    static TensorSpec fromJson(@JsonProperty("name") String name, @JsonProperty("dtype") String dtype,
                               @JsonProperty("shape") List<Object> shape) {
        DType t = DType.parse(dtype);
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + name + "' has unsupported dtype '" + dtype
                    + "'; supported: float32, float16, bfloat16, int64");
        }
        if (shape == null) {
            throw new IllegalArgumentException("tensor '" + name + "' has no shape");
        }
        long[] dims = new long[shape.size()];
        String[] symbols = new String[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            Object d = shape.get(i);
            if (d instanceof Number n && n.longValue() == n.doubleValue()) {
                dims[i] = n.longValue();
            } else if (d instanceof String s && i > 0 && VideoSize.SYMBOLS.contains(s)) {
                symbols[i] = s;
                dims[i] = -1;
            } else {
                throw new IllegalArgumentException("tensor '" + name + "' dimension " + i + " is " + d
                        + "; must be an integer or one of the size symbols " + VideoSize.SYMBOLS);
            }
        }
        return new TensorSpec(name, t, dims, symbols);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String[] symbols() {
        return symbols.clone();
    }

    /** The symbol of dimension {@code d}, or null when it is fixed (or the batch). */
    public String symbol(int d) {
        return symbols[d];
    }

    /** Whether every dimension after the batch is fixed. */
    public boolean fixed() {
        for (String s : symbols) {
            if (s != null) {
                return false;
            }
        }
        return true;
    }

    /** Elements in one sample (all dimensions but the batch); the tensor must be {@link #fixed}. */
    public long sampleElements() {
        if (!fixed()) {
            throw new IllegalStateException("tensor '" + name + "' has size-dependent dimensions " + this
                    + "; give a size");
        }
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    public long sampleBytes() {
        return sampleElements() * dtype.bytes();
    }

    /** The concrete shape for a batch of {@code batch} samples (the tensor must be {@link #fixed}). */
    public long[] withBatch(long batch) {
        sampleElements();
        long[] s = shape.clone();
        s[0] = batch;
        return s;
    }

    /** The concrete shape for {@code batch} samples with the symbols bound by {@code binding}. */
    public long[] withBatch(long batch, Map<String, Long> binding) {
        long[] s = shape.clone();
        s[0] = batch;
        for (int i = 1; i < s.length; i++) {
            if (symbols[i] != null) {
                Long v = binding.get(symbols[i]);
                if (v == null) {
                    throw new IllegalArgumentException("tensor '" + name + "' needs a value for '" + symbols[i] + "'");
                }
                s[i] = v;
            }
        }
        return s;
    }

    /** Elements of one sample of a concrete shape (its dimensions after the first). */
    public static long sampleElements(long[] concrete) {
        long n = 1;
        for (int i = 1; i < concrete.length; i++) {
            n *= concrete[i];
        }
        return n;
    }

    /**
     * Matches a concrete shape (batch first) against this spec: the rank and every fixed dimension
     * must agree; each symbol's value goes into {@code binding}, where a symbol bound before (by
     * another input) must have the same value. Returns null on a match, else what differs.
     */
    public String bind(List<Long> concrete, Map<String, Long> binding) {
        if (concrete.size() != shape.length) {
            return "has " + concrete.size() + " dimensions; expected " + shape.length;
        }
        for (int i = 1; i < shape.length; i++) {
            long got = concrete.get(i);
            if (symbols[i] == null) {
                if (got != shape[i]) {
                    return "dimension " + i + " is " + got + "; expected " + shape[i];
                }
            } else {
                if (got < 1) {
                    return "dimension " + i + " (" + symbols[i] + ") is " + got + "; must be >= 1";
                }
                Long before = binding.putIfAbsent(symbols[i], got);
                if (before != null && before != got) {
                    return "dimension " + i + " (" + symbols[i] + ") is " + got + " but another input has "
                            + symbols[i] + " = " + before;
                }
            }
        }
        return null;
    }

    /** The declared shape with its symbols, as the manifest writes it: [-1, 16, latent_frames, ...]. */
    public String shapeText() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            parts.add(symbols[i] != null ? symbols[i] : Long.toString(shape[i]));
        }
        return parts.toString();
    }

    /** Symbols this spec uses, in dimension order. */
    public Map<Integer, String> symbolDims() {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int i = 0; i < symbols.length; i++) {
            if (symbols[i] != null) {
                m.put(i, symbols[i]);
            }
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && Arrays.equals(t.symbols, symbols);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), Arrays.hashCode(symbols));
    }

    @Override
    public String toString() {
        return name + ":" + dtype.wireName() + shapeText();
    }
}
