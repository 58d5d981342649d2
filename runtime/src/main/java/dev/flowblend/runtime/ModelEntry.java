package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;

/** One model of a family, as manifest.json lists it. Immutable. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelEntry(
        String name,
        String role,
        String file,
        String sha256,
        long params,
        @JsonProperty("flops_per_sample") long flopsPerSample,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs) {

    public ModelEntry {
        Objects.requireNonNull(name, "model name");
        Objects.requireNonNull(role, () -> "model '" + name + "' role");
        Objects.requireNonNull(file, () -> "model '" + name + "' file");
        if (inputs == null || inputs.isEmpty() || outputs == null || outputs.isEmpty()) {
            throw new IllegalArgumentException("model '" + name + "' must declare inputs and outputs");
        }
        if (flopsPerSample < 0 || params < 0) {
            throw new IllegalArgumentException("model '" + name + "' has negative params or flops_per_sample");
        }
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public TensorSpec input(String inputName) {
        return inputs.stream().filter(t -> t.name().equals(inputName)).findFirst().orElse(null);
    }

    public TensorSpec output(String outputName) {
        return outputs.stream().filter(t -> t.name().equals(outputName)).findFirst().orElse(null);
    }
}
