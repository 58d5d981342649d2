package dev.flowblend.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of {@code bench --transport} ({@link TransportBench}), mixed into {@code bench}. */
final class TransportOptions {
    @Option(names = "--transport", description = "Measure the transport at WAN 2.1 480p tensor sizes instead "
            + "(identity velocity models, fp32 and bf16, both guidance forms, against a bare gRPC echo of the same "
            + "bytes); see docs/benchmarks.md.")
    boolean enabled;

    @Option(names = "--transport-runs", description = "With --transport: recorded runs; each runs every mode "
            + "(default: ${DEFAULT-VALUE}).")
    int runs = 8;

    @Option(names = "--transport-warmup", description = "With --transport: unrecorded warm-up runs "
            + "(default: ${DEFAULT-VALUE}).")
    int warmup = 2;

    @Option(names = "--transport-steps", description = "With --transport: guided steps per mode and run, each "
            + "paired with an echo of its bytes (default: ${DEFAULT-VALUE}).")
    int steps = 5;

    @Option(names = "--transport-size", description = "With --transport: the video size of the transport "
            + "families (default: ${DEFAULT-VALUE}; 'tiny' for a quick check).")
    String size = "480p";

    @Option(names = "--transport-models", description = "With --transport: the directory holding the fp32/ "
            + "and bf16/ families (default: models/transport of the checkout).")
    Path models;

    void validate() {
        if (runs < 1 || warmup < 0 || steps < 1) {
            throw new IllegalArgumentException("--transport-runs is " + runs + ", --transport-warmup " + warmup
                    + " and --transport-steps " + steps + "; need runs >= 1, warmup >= 0 and steps >= 1");
        }
    }

    Path modelsDir() {
        return models != null ? models : Launcher.home().resolve("models/transport");
    }
}
