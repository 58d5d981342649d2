package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;

/**
 * One model of a family, as manifest.json lists it. {@code external_data} lists the files that hold
 * the model's weights outside the .onnx file (ONNX external data, as every model over 2 GB has),
 * each with its checksum; ONNX Runtime reads them itself, relative to the model file; {@code golden}
 * names the model's reference inputs and outputs, if any. Immutable.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelEntry(
        String name,
        String role,
        String file,
        String sha256,
        long params,
        @JsonProperty("flops_per_sample") long flopsPerSample,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs,
        @JsonProperty("external_data") List<ExternalData> externalData,
        Golden golden) {

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
        externalData = externalData == null ? List.of() : List.copyOf(externalData);
    }

    /**
     * One external data file of a model: its path relative to the family directory (ONNX's
     * {@code location} resolves against the model file's directory, so it sits next to the model)
     * and its sha256. {@link ModelFamily#load} checks both.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ExternalData(String file, String sha256) {
    }

    /**
     * Reference inputs and the exporting framework's outputs for them (a safetensors file, tensors
     * {@code input.<name>} and {@code output.<name>}), relative to the family directory; optional.
     * {@link GoldenCheck} runs the model on them. Not read when serving.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Golden(String file, String sha256) {
    }

    public TensorSpec input(String inputName) {
        return inputs.stream().filter(t -> t.name().equals(inputName)).findFirst().orElse(null);
    }

    public TensorSpec output(String outputName) {
        return outputs.stream().filter(t -> t.name().equals(outputName)).findFirst().orElse(null);
    }
}
