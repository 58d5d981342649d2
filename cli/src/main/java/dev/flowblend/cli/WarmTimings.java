package dev.flowblend.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The recorded generations of one plan: the orchestrator's sampling time (the loop a plan changes)
 * and the client's end-to-end wall time, each summarised by its median. Not thread-safe.
 */
final class WarmTimings {
    private final List<Double> sampling = new ArrayList<>();
    private final List<Double> total = new ArrayList<>();

    void add(GenerationClient.Outcome o) {
        sampling.add(o.result().getMetadata().getTimings().getSamplingMs());
        total.add(o.wallMs());
    }

    double sampling() {
        return BenchCommand.median(sampling);
    }

    double total() {
        return BenchCommand.median(total);
    }
}
