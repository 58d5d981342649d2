package dev.flowblend.runtime;

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
        if (!executionProvider.equals("cpu") && !executionProvider.matches("cuda(:\\d+)?")) {
            throw new IllegalArgumentException("execution_provider is '" + executionProvider
                    + "'; must be cpu, cuda or cuda:N");
        }
    }

    public static RuntimeOptions cpu(int intraOpThreads) {
        return new RuntimeOptions(intraOpThreads, 1, "cpu");
    }

    int cudaDevice() {
        int i = executionProvider.indexOf(':');
        return i < 0 ? 0 : Integer.parseInt(executionProvider.substring(i + 1));
    }
}
