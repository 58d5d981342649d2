package dev.flowblend.cli;

import dev.flowblend.calibration.BatchGenerator;
import dev.flowblend.calibration.EvaluatorModel;
import dev.flowblend.calibration.Evaluation;
import dev.flowblend.calibration.FeatureExtractor;
import dev.flowblend.calibration.OnnxFeatureExtractor;
import dev.flowblend.orchestrator.Backend;
import dev.flowblend.orchestrator.Generator;
import dev.flowblend.orchestrator.InProcessBackend;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.OrchestratorServer;
import dev.flowblend.orchestrator.PromptEncoder;
import dev.flowblend.orchestrator.RemoteBackend;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import picocli.CommandLine.Option;

/**
 * Where evaluate and calibrate get their velocities: in this process (default), from a local
 * cluster started like the demo's (--cluster), or from already-running pools (--pools). Closes
 * what it opened, in reverse order.
 */
final class Engines implements AutoCloseable {

    /** The shared command-line options. */
    static final class Options {
        @Option(names = "--cluster", description = "Start this cluster config's processes on loopback (like demo) and use its pools over gRPC.")
        Path cluster;

        @Option(names = "--pools", description = "Use the pools of this orchestrator/cluster config, already running, over gRPC.")
        Path pools;

        @Option(names = "--threads", description = "ONNX Runtime intra-op threads in-process (default: ${DEFAULT-VALUE}).")
        int threads = 2;

        @Option(names = "--features", description = "Similarity feature extractor: an ONNX file, optionally file.onnx:output "
                + "(default: the family's evaluator).")
        String features;
    }

    final ModelFamily family;
    final Backend backend;
    final EvaluatorModel evaluator;
    final FeatureExtractor features;
    final Evaluation evaluation;
    private final List<AutoCloseable> owned = new ArrayList<>();

    Engines(Options o, int steps, Double guidance) throws Exception {
        family = ModelFamily.load(ModelFamily.defaultDirectory());
        try {
            int chunk;
            if (o.cluster != null || o.pools != null) {
                OrchestratorConfig oc;
                if (o.cluster != null) {
                    LocalCluster c = LocalCluster.start(ClusterConfig.load(o.cluster));
                    owned.add(c);
                    oc = c.config().orchestrator();
                } else {
                    oc = isCluster(o.pools)
                            ? ClusterConfig.load(o.pools).orchestrator()
                            : dev.flowblend.runtime.Json.read(o.pools, OrchestratorConfig.class);
                }
                ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
                owned.add(scheduler::shutdownNow);
                backend = new RemoteBackend(family, oc, OrchestratorServer.nettyChannels(oc.maxMessageBytes()), scheduler);
                chunk = 16;  // 32 samples per guided call: the workers' default max_batch_size
            } else {
                backend = InProcessBackend.largeSmall(family, RuntimeOptions.cpu(o.threads));
                chunk = 64;
            }
            owned.add(backend);
            evaluator = new EvaluatorModel(family, RuntimeOptions.cpu(o.threads));
            owned.add(evaluator);
            if (o.features != null) {
                int colon = o.features.lastIndexOf(".onnx:");
                Path file = Path.of(colon < 0 ? o.features : o.features.substring(0, colon + 5));
                String out = colon < 0 ? null : o.features.substring(colon + 6);
                features = new OnnxFeatureExtractor(file, out, family.conventions().videoShape());
                owned.add(features);
            } else {
                features = evaluator;
            }
            Tokenizer tokenizer = Tokenizer.load(family);
            owned.add(tokenizer);  // owned here, lent to the PromptEncoder; close() closes it first (reverse order)
            Generator generator = new Generator(family, backend, new PromptEncoder(tokenizer, 4096));
            evaluation = new Evaluation(new BatchGenerator(generator, chunk), evaluator, features,
                    Evaluation.realStatistics(family), steps > 0 ? steps : family.conventions().defaultSteps(),
                    guidance != null ? guidance : family.conventions().defaultGuidanceScale());
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private static boolean isCluster(Path p) {
        try {
            return dev.flowblend.runtime.Json.mapper().readTree(p.toFile()).has("orchestrator");
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                System.err.println("flowblend: closing " + owned.get(i) + ": " + e.getMessage());
            }
        }
        owned.clear();
    }
}
