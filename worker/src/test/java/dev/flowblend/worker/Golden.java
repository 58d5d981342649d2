package dev.flowblend.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reference inputs and outputs written by models/train/stage_export.py from the torch models. */
final class Golden {
    private final JsonNode root;

    private Golden(JsonNode root) {
        this.root = root;
    }

    static Golden load(String model) throws IOException {
        Path f = ModelFamily.defaultDirectory().resolve("golden").resolve(model + ".json");
        return new Golden(Json.mapper().readTree(Files.readAllBytes(f)));
    }

    float[] floats(String section, String name) {
        JsonNode d = root.get(section).get(name).get("data");
        float[] a = new float[d.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) d.get(i).asDouble();
        }
        return a;
    }

    long[] longs(String section, String name) {
        JsonNode d = root.get(section).get(name).get("data");
        long[] a = new long[d.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = d.get(i).asLong();
        }
        return a;
    }

    long[] shape(String section, String name) {
        JsonNode s = root.get(section).get(name).get("shape");
        long[] a = new long[s.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = s.get(i).asLong();
        }
        return a;
    }
}
