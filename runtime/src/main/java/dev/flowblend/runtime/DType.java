package dev.flowblend.runtime;

import java.util.Locale;

/** Tensor element types flowblend moves over the wire, named as the Open Inference Protocol names them. */
public enum DType {
    FP32("FP32", "float32", 4),
    /** IEEE 754 half precision. */
    FP16("FP16", "float16", 2),
    /** bfloat16: the upper 16 bits of an FP32 (8 exponent bits), what real DiTs run in. */
    BF16("BF16", "bfloat16", 2),
    INT64("INT64", "int64", 8);

    private final String wireName;
    private final String manifestName;
    private final int bytes;

    DType(String wireName, String manifestName, int bytes) {
        this.wireName = wireName;
        this.manifestName = manifestName;
        this.bytes = bytes;
    }

    /** The OIP datatype string ("FP32"). */
    public String wireName() {
        return wireName;
    }

    public int bytes() {
        return bytes;
    }

    /** The manifest's dtype string ("bfloat16"). */
    public String manifestName() {
        return manifestName;
    }

    /** Whether the elements are floating point (FP32, FP16, BF16). */
    public boolean floating() {
        return this != INT64;
    }

    /** Parses a manifest dtype ("float32") or an OIP datatype ("FP32"); null when neither. */
    public static DType parse(String name) {
        if (name == null) {
            return null;
        }
        String n = name.toLowerCase(Locale.ROOT);
        for (DType t : values()) {
            if (t.manifestName.equals(n) || t.wireName.toLowerCase(Locale.ROOT).equals(n)) {
                return t;
            }
        }
        return null;
    }
}
