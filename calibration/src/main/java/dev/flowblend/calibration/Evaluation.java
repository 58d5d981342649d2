package dev.flowblend.calibration;

import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generates a plan's videos for a prompt set and measures them against large-only videos of the
 * same prompts and seeds, and against the real-render feature statistics. Thread-compatible.
 */
public final class Evaluation {
    private final BatchGenerator generator;
    private final EvaluatorModel evaluator;
    private final FeatureExtractor features;
    private final Gaussian real;
    private final int steps;
    private final double guidance;

    /** @param features the similarity extractor (the evaluator itself unless one is plugged in) */
    public Evaluation(BatchGenerator generator, EvaluatorModel evaluator, FeatureExtractor features, Gaussian real,
                      int steps, double guidance) {
        this.generator = generator;
        this.evaluator = evaluator;
        this.features = features;
        this.real = real;
        this.steps = steps;
        this.guidance = guidance;
    }

    /** The evaluator's feature statistics of real renders, shipped with the family. */
    public static Gaussian realStatistics(ModelFamily family) throws IOException {
        String ref = family.manifest().evaluator().reference();
        JsonNode n = Json.mapper().readTree(Files.readAllBytes(family.dir().resolve(ref)));
        int d = n.get("dim").asInt();
        double[] mean = new double[d];
        double[][] cov = new double[d][d];
        for (int i = 0; i < d; i++) {
            mean[i] = n.get("mean").get(i).asDouble();
            for (int j = 0; j < d; j++) {
                cov[i][j] = n.get("covariance").get(i).get(j).asDouble();
            }
        }
        return new Gaussian(mean, cov);
    }

    /** One plan's videos with what the evaluator and the extractor saw in them. */
    public record Run(StagePlan plan, BatchGenerator.Videos videos, List<EvaluatorModel.Verdict> verdicts,
                      List<float[]> features) {
    }

    /** The plan's videos, at the plan's steps if it fixes them, else at this evaluation's. */
    public Run run(StagePlan plan, List<PromptSet.Sample> samples, Runnable tick) throws Exception {
        BatchGenerator.Videos v = generator.generate(samples, plan, steps(plan), guidance, tick);
        List<EvaluatorModel.Verdict> verdicts = evaluator.judge(v.frames(), v.count());
        List<float[]> f = features == evaluator ? verdicts.stream().map(EvaluatorModel.Verdict::features).toList()
                : features.features(v.frames(), v.count());
        return new Run(plan, v, verdicts, f);
    }

    public PlanQuality measure(Run run, Run largeOnly, List<PromptSet.Sample> samples) {
        int n = samples.size();
        int[] shape = run.videos().frameShape();
        int frameSize = shape[1] * shape[2] * shape[3];
        double sim = 0, psnr = 0, ssim = 0, motion = 0;
        int allRight = 0;
        int heads = evaluator.heads().size();
        int[] headRight = new int[heads];
        List<float[]> evalFeatures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] a = run.videos().video(i);
            float[] ref = largeOnly.videos().video(i);
            sim += Metrics.cosine(run.features().get(i), largeOnly.features().get(i));
            psnr += Metrics.psnr(a, ref);
            ssim += Metrics.ssim(a, ref, shape[0], shape[1], shape[2], shape[3]);
            motion += Metrics.motionSimilarity(a, ref, shape[0], frameSize);
            int[] got = run.verdicts().get(i).labels();
            boolean all = true;
            for (int h = 0; h < heads; h++) {
                boolean ok = got[h] == samples.get(i).labels()[h];
                headRight[h] += ok ? 1 : 0;
                all &= ok;
            }
            allRight += all ? 1 : 0;
            evalFeatures.add(run.verdicts().get(i).features());
        }
        Map<String, Double> perHead = new LinkedHashMap<>();
        for (int h = 0; h < heads; h++) {
            perHead.put(evaluator.heads().get(h), headRight[h] / (double) n);
        }
        double largeFlops = largeOnly.videos().flops();
        return new PlanQuality(run.plan().name(), run.plan().describe(), n, run.videos().flops() / n,
                1 - run.videos().flops() / largeFlops, run.videos().wallMs() / n, allRight / (double) n, perHead,
                Gaussian.of(evalFeatures).frechet(real), sim / n, psnr / n, ssim / n, motion / n);
    }

    /**
     * The share of {@code resamples} bootstrap resamples of the set on which {@code run} meets
     * {@code tol} against {@code largeOnly} ({@link Bootstrap}); the seed fixes the resamples.
     */
    public double passShare(Run run, Run largeOnly, List<PromptSet.Sample> samples, Tolerances tol, int resamples,
                            long seed) {
        return Bootstrap.passShare(side(run, largeOnly, samples), side(largeOnly, largeOnly, samples), real, tol,
                resamples, seed);
    }

    /** Per video: all attributes right, feature similarity to large-only's video, the evaluator's features. */
    private Bootstrap.Side side(Run run, Run largeOnly, List<PromptSet.Sample> samples) {
        int n = samples.size();
        boolean[] right = new boolean[n];
        double[] sim = new double[n];
        List<float[]> f = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            right[i] = java.util.Arrays.equals(run.verdicts().get(i).labels(), samples.get(i).labels());
            sim[i] = Metrics.cosine(run.features().get(i), largeOnly.features().get(i));
            f.add(run.verdicts().get(i).features());
        }
        return new Bootstrap.Side(right, sim, f);
    }

    /** The steps {@code plan} samples with: its own, else this evaluation's. */
    public int steps(StagePlan plan) {
        return plan.steps() != null ? plan.steps() : steps;
    }

    public int steps() {
        return steps;
    }

    public double guidance() {
        return guidance;
    }

    public BatchGenerator generator() {
        return generator;
    }
}
