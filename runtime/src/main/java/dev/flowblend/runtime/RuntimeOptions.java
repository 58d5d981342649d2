package dev.flowblend.runtime;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * How ONNX Runtime runs a model: thread counts and execution provider ("cpu", or "cuda" /
 * "cuda:N" with a build made under the Maven profile {@code gpu}).
 */
public record RuntimeOptions(int intraOpThreads, int interOpThreads, String executionProvider) {

    public RuntimeOptions {
        if (intraOpThreads < 0 || intraOpThreads > 256) {
            throw new IllegalArgumentException("intra_op_threads is " + intraOpThreads + "; must be 0 (ORT default) to 256");
        }
        if (interOpThreads < 0 || interOpThreads > 256) {
            throw new IllegalArgumentException("inter_op_threads is " + interOpThreads + "; must be 0 (ORT default) to 256");
        }
        executionProvider = executionProvider == null ? "cpu" : executionProvider.toLowerCase(Locale.ROOT);
        // N is a CUDA device ordinal: 0..1023 covers any machine, and parses as an int later
        if (!executionProvider.equals("cpu") && !executionProvider.matches("cuda(:(\\d|[1-9]\\d{1,2}|10[01]\\d|102[0-3]))?")) {
            throw new IllegalArgumentException("execution_provider is '" + executionProvider
                    + "'; must be cpu, cuda or cuda:N with N 0 to 1023");
        }
    }

    /** The defaults: one intra-op and one inter-op thread, the CPU provider. */
    public static final RuntimeOptions DEFAULT = new RuntimeOptions(1, 1, "cpu");

    /** From a config file: every key may be left out and then takes its value in {@link #DEFAULT}. */
    @JsonCreator
    static RuntimeOptions of(@JsonProperty("intra_op_threads") Integer intraOpThreads,
                             @JsonProperty("inter_op_threads") Integer interOpThreads,
                             @JsonProperty("execution_provider") String executionProvider) {
        return new RuntimeOptions(Json.or(intraOpThreads, DEFAULT.intraOpThreads),
                Json.or(interOpThreads, DEFAULT.interOpThreads), executionProvider);
    }

    public static RuntimeOptions cpu(int intraOpThreads) {
        return new RuntimeOptions(intraOpThreads, 1, "cpu");
    }

    int cudaDevice() {
        int i = executionProvider.indexOf(':');
        return i < 0 ? 0 : Integer.parseInt(executionProvider.substring(i + 1));
    }
}
