package dev.flowblend.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a safetensors file (8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the little-endian data), the format of the goldens that
 * models/export writes. Only the dtypes flowblend moves are accepted (F32, F16, BF16, I64); every
 * malformed field is refused naming the file and the tensor. Whole-file read: for reference tensors
 * of a few MB, not for weights (ONNX Runtime reads those).
 */
public final class Safetensors {
    private static final long MAX_HEADER = 100_000_000L;
    private static final Map<String, DType> DTYPES = Map.of("F32", DType.FP32, "F16", DType.FP16,
            "BF16", DType.BF16, "I64", DType.INT64);

    /** One tensor: its type, shape and little-endian bytes (a read-only view into the file's data). */
    public record Tensor(DType dtype, long[] shape, ByteBuffer data) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private Safetensors() {
    }

    /** Every tensor of {@code file}, in header order. */
    public static Map<String, Tensor> read(Path file) throws IOException {
        ByteBuffer all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8 || size > Integer.MAX_VALUE) {
                throw new IOException(file + ": " + size + " bytes is not a safetensors file flowblend reads (8 B..2 GB)");
            }
            all = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
            while (all.hasRemaining() && ch.read(all) >= 0) {
                // read it all
            }
            all.flip();
        }
        long headerLength = all.getLong(0);
        if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > all.limit()) {
            throw new IOException(file + ": header length " + headerLength + " does not fit the file of " + all.limit() + " bytes");
        }
        byte[] raw = new byte[(int) headerLength];
        all.get(8, raw);
        JsonNode header = new ObjectMapper().readTree(raw);
        int dataStart = (int) (8 + headerLength);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                continue;
            }
            out.put(f.getKey(), tensor(file, f.getKey(), f.getValue(), all, dataStart));
        }
        return out;
    }

    private static Tensor tensor(Path file, String name, JsonNode info, ByteBuffer all, int dataStart) throws IOException {
        DType dtype = DTYPES.get(info.path("dtype").asText());
        if (dtype == null) {
            throw new IOException(file + ": tensor '" + name + "' has dtype '" + info.path("dtype").asText()
                    + "'; accepted: " + DTYPES.keySet());
        }
        JsonNode dims = info.path("shape");
        long[] shape = new long[dims.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new IOException(file + ": tensor '" + name + "' has shape " + dims + "; dimensions must be >= 0");
            }
            elements = Math.multiplyExact(elements, shape[i]);
        }
        JsonNode offsets = info.path("data_offsets");
        long begin = offsets.path(0).asLong(-1);
        long end = offsets.path(1).asLong(-1);
        if (begin < 0 || end < begin || dataStart + end > all.limit() || end - begin != elements * dtype.bytes()) {
            throw new IOException(file + ": tensor '" + name + "' has data_offsets " + offsets + ", which do not hold "
                    + elements + " elements of " + dtype.wireName() + " inside the file");
        }
        ByteBuffer data = all.slice(dataStart + (int) begin, (int) (end - begin)).asReadOnlyBuffer()
                .order(ByteOrder.LITTLE_ENDIAN);
        return new Tensor(dtype, shape, data);
    }
}
