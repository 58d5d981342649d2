package dev.flowblend.cli;

import dev.flowblend.capacity.Clusters;
import dev.flowblend.capacity.Costs;
import dev.flowblend.capacity.Load;
import dev.flowblend.capacity.PlanSpec;
import dev.flowblend.capacity.Planner;
import dev.flowblend.capacity.SimResult;
import dev.flowblend.capacity.Tables;
import dev.flowblend.orchestrator.SigmaSchedule;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.runtime.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Capacity planning without GPUs: simulate a load point from a costs file, plan the cheapest
 * replica counts for a rate under a p95 SLO, or write the cluster-scale tables. Bad input (a
 * missing file, an unknown key, a negative rate, a plan naming a pool the costs lack) ends with
 * one line on stderr naming the option or field, and exit status 2. docs/capacity.md describes
 * the model and the file formats.
 */
@Command(name = "capacity", mixinStandardHelpOptions = true,
        description = "Capacity planning by discrete-event simulation of the serving policy: simulate, plan, table.",
        subcommands = {CapacityCommand.Simulate.class, CapacityCommand.PlanCapacity.class, CapacityCommand.Table.class,
                CapacityFit.class, CapacityCompare.class})
final class CapacityCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "capacity: give a command: simulate, plan, table, fit or compare");
    }

    /** Runs {@code body}; an input error becomes one line on stderr and exit status 2. */
    static int guarded(String command, Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (IllegalArgumentException e) {
            System.err.println("flowblend capacity " + command + ": " + e.getMessage());
            return 2;
        }
    }

    static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The costs file, with --plan (a preset or a StagePlan file) replacing its plan when given. */
    static Costs costs(Path file, String plan, double sigmaShift) {
        Costs c = Costs.read(file);
        return plan == null ? c : c.withPlan(planSpec(plan, c.plan().steps(), sigmaShift)).check();
    }

    /**
     * A preset or a plan file as the orchestrator reads it (StagePlan), as pools and bounds: by
     * step fraction its segments as they are; by sigma, the steps StagePlan.resolve gives at
     * {@code sigmaShift}, run-length encoded (bound k/steps resolves back to exactly those steps).
     * A plan file's own step count wins over the costs file's.
     */
    static PlanSpec planSpec(String plan, int steps, double sigmaShift) {
        if (StagePlan.PRESETS.containsKey(plan)) {
            return PlanSpec.preset(plan, steps);
        }
        check(plan.endsWith(".json") && Files.isRegularFile(Path.of(plan)), "--plan is '" + plan + "'; must be a preset "
                + new java.util.TreeSet<>(StagePlan.PRESETS.keySet()) + " or a plan file (.json) that exists");
        StagePlan p = StagePlan.load(Path.of(plan));
        int n = p.steps() != null ? p.steps() : steps;
        String[] pools = p.resolve(n, SigmaSchedule.sigmas(n, sigmaShift));
        List<String> segPools = new ArrayList<>();
        List<Double> bounds = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            if (k == n - 1 || !pools[k].equals(pools[k + 1])) {
                segPools.add(pools[k]);
                bounds.add(k == n - 1 ? 1.0 : (k + 1) / (double) n);
            }
        }
        return PlanSpec.segments(n, segPools, bounds);
    }

    @Command(name = "simulate", mixinStandardHelpOptions = true,
            description = "Predict one load point: a closed loop of --concurrency clients or Poisson arrivals at --rate.")
    static final class Simulate implements Callable<Integer> {
        @Option(names = "--costs", required = true, description = "Costs file (docs/capacity.md; examples in docs/capacity/).")
        Path costs;

        @Option(names = "--plan", description = "Preset or plan file replacing the costs file's plan (default: the file's).")
        String plan;

        @Option(names = "--sigma-shift", description = "Noise-schedule shift for a plan file by sigma (default: ${DEFAULT-VALUE}, WAN at 480p).")
        double sigmaShift = 3.0;

        @Option(names = "--concurrency", description = "Closed loop: clients, each sending its next request when the last ended "
                + "(default: 1 unless --rate is given).")
        Integer concurrency;

        @Option(names = "--think-ms", description = "Closed loop: a client's pause between requests (default: ${DEFAULT-VALUE}).")
        double thinkMs = 0;

        @Option(names = "--rate", description = "Open loop: Poisson arrivals, videos per second.")
        Double rate;

        @Option(names = "--count", description = "Requests in all (default: ${DEFAULT-VALUE}).")
        int count = Load.DEFAULT_COUNT;

        @Option(names = "--warmup", description = "The first requests left out of every statistic (default: count / 10).")
        Integer warmup;

        @Option(names = "--seed", description = "Seed of the arrivals and cache hits (default: ${DEFAULT-VALUE}).")
        long seed = Load.DEFAULT_SEED;

        @Option(names = "--max-simulated-s", description = "End the run at this simulated time (default: ${DEFAULT-VALUE}).")
        double maxSimulatedS = Load.DEFAULT_MAX_SIMULATED_S;

        @Option(names = "--json", description = "Print the result as one JSON line (the last stdout line).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return guarded("simulate", () -> {
                check(concurrency == null || rate == null, "--concurrency and --rate exclude each other: a closed or an open loop");
                check(rate == null || (rate > 0 && Double.isFinite(rate)), "--rate is " + rate + "; must be > 0");
                check(concurrency == null || concurrency >= 1, "--concurrency is " + concurrency + "; must be >= 1");
                check(count >= 1, "--count is " + count + "; must be >= 1");
                check(warmup == null || (warmup >= 0 && warmup < count), "--warmup is " + warmup + "; must be 0 to count - 1");
                Costs c = costs(costs, plan, sigmaShift);
                Load load = (rate != null ? Load.open(rate) : Load.closed(concurrency != null ? concurrency : 1).thinkMs(thinkMs))
                        .count(count).seed(seed).maxSimulatedS(maxSimulatedS);
                load = warmup != null ? load.warmup(warmup) : load;
                SimResult r = dev.flowblend.capacity.Simulation.run(c, load);
                print(r, load);
                if (json) {
                    System.out.println(Json.writeCompact(r));
                }
                return 0;
            });
        }

        static void print(SimResult r, Load load) {
            System.out.printf(Locale.ROOT, "simulated %s, %s: %d completed, %d refused, %d unfinished of %d%n", r.plan(),
                    r.load(), r.completed(), r.refused(), r.unfinished(), r.issued());
            System.out.printf(Locale.ROOT, "throughput %.4f videos/s over %.1f s (the first %d requests a warm-up)%n",
                    r.throughputPerS(), r.windowS(), load.warmup());
            System.out.printf(Locale.ROOT, "latency p50 %.3f s, p95 %.3f s, p99 %.3f s, mean %.3f s; admission wait mean "
                    + "%.3f s; at most %d running, %d queued%n", r.latencyP50S(), r.latencyP95S(), r.latencyP99S(),
                    r.latencyMeanS(), r.admissionWaitMeanS(), r.peakRunning(), r.peakQueued());
            r.pools().forEach((name, p) -> System.out.printf(Locale.ROOT,
                    "pool %s: %d workers, utilisation %.1f%%, mean queue wait %.4f s%n", name, p.workers(),
                    100 * p.utilisation(), p.meanQueueWaitS()));
            r.models().forEach((name, m) -> System.out.printf(Locale.ROOT,
                    "model %s: %d batches, mean %.2f samples (%.2f requests) a batch%n", name, m.batches(),
                    m.meanBatchSamples(), m.meanBatchRequests()));
            System.out.printf(Locale.ROOT, "orchestrator encoder utilisation %.1f%%%n", 100 * r.encoderUtilisation());
            if (r.latencyTrend() > 1.05) {
                System.out.printf(Locale.ROOT, "note: the later half of the run took %.0f%% longer than the earlier half; "
                        + "the queues were still growing (overload, or a run too short for this load)%n",
                        100 * (r.latencyTrend() - 1));
            }
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "The cheapest replicas per pool whose simulated p95 meets --slo-p95 at --rate, for every "
                    + "placement of the text encoder and decoder (the best marked *).")
    static final class PlanCapacity implements Callable<Integer> {
        @Option(names = "--costs", required = true, description = "Costs file; its pools' worker counts are ignored.")
        Path costs;

        @Option(names = "--rate", required = true, description = "Target rate: Poisson arrivals, videos per second.")
        double rate;

        @Option(names = "--slo-p95", required = true, description = "p95 latency SLO in seconds (admission wait included).")
        double sloP95;

        @Option(names = "--plan", description = "Preset or plan file replacing the costs file's plan (default: the file's).")
        String plan;

        @Option(names = "--sigma-shift", description = "Noise-schedule shift for a plan file by sigma (default: ${DEFAULT-VALUE}).")
        double sigmaShift = 3.0;

        @Option(names = "--count", description = "Requests per simulated run, after the warm-up (default: ${DEFAULT-VALUE}).")
        int count = Planner.Options.DEFAULT.count();

        @Option(names = "--seed", description = "Seed of every run (default: ${DEFAULT-VALUE}).")
        long seed = Planner.Options.DEFAULT.seed();

        @Option(names = "--max-utilisation", description = "Every pool stays below this utilisation (default: ${DEFAULT-VALUE}).")
        double maxUtilisation = 1.0;

        @Option(names = "--json", description = "Print the plan as one JSON line (the last stdout line).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return guarded("plan", () -> {
                check(rate > 0 && Double.isFinite(rate), "--rate is " + rate + "; must be > 0");
                check(sloP95 > 0 && Double.isFinite(sloP95), "--slo-p95 is " + sloP95 + "; must be > 0");
                check(count >= 1, "--count is " + count + "; must be >= 1");
                check(maxUtilisation > 0 && maxUtilisation <= 1, "--max-utilisation is " + maxUtilisation + "; must be > 0 and <= 1");
                Costs c = costs(costs, plan, sigmaShift);
                Planner.Options o = new Planner.Options(count, Math.max(1, count / 10), seed,
                        Planner.Options.DEFAULT.maxSimulations(), maxUtilisation);
                Planner.Result r = Planner.plan(c, rate, sloP95, o);
                System.out.printf(Locale.ROOT, "plan %s at %.6g videos/s (%.0f a day), p95 SLO %s s:%n", r.plan(), rate,
                        rate * 86_400, sloP95);
                for (Planner.Placement p : r.placements()) {
                    System.out.println(describe(p));
                }
                Planner.Placement best = r.best();
                if (best == null) {
                    System.out.println("no placement meets the SLO");
                } else if (best.pools().values().stream().anyMatch(pp -> pp.utilisation() > 0.95)) {
                    System.out.println("note: a pool above 95% utilisation: that close to saturation a finite run "
                            + "understates the steady-state waits; --max-utilisation 0.95 keeps headroom");
                }
                if (json) {
                    System.out.println(Json.writeCompact(r));
                }
                return 0;
            });
        }

        static String describe(Planner.Placement p) {
            StringBuilder b = new StringBuilder(p.best() ? "* " : "  ");
            b.append("text encoder on ").append(p.textEncoderPool()).append(", decoder on ").append(p.decoderPool()).append(": ");
            List<String> pools = new ArrayList<>();
            p.pools().forEach((name, pp) -> pools.add(name + " " + pp.workers()));
            b.append(String.join(", ", pools)).append(" workers");
            if (!p.feasible()) {
                return b.append("; infeasible: ").append(p.reason()).toString();
            }
            List<String> util = new ArrayList<>();
            p.pools().forEach((name, pp) -> util.add(String.format(Locale.ROOT, "%s %.1f%% (simulated %.1f%%)", name,
                    100 * pp.utilisation(), 100 * pp.simulatedUtilisation())));
            return b.append(String.format(Locale.ROOT, "; $%.4f a video ($%.2f/h); throughput %.4g/s; p50 %.1f s, p95 %.1f s; "
                    + "utilisation %s; max_concurrent_generations %d", p.dollarsPerVideo(), p.dollarsPerHour(),
                    p.throughputPerS(), p.latencyP50S(), p.latencyP95S(), String.join(", ", util),
                    p.maxConcurrentGenerations())).toString();
        }
    }

    @Command(name = "table", mixinStandardHelpOptions = true,
            description = "Plan every cluster of a clusters file at every daily volume; write the Markdown tables.")
    static final class Table implements Callable<Integer> {
        @Option(names = "--clusters", required = true, description = "Clusters file (docs/capacity/clusters.json).")
        Path clusters;

        @Option(names = "--out", description = "Write the tables here (default: print them).")
        Path out;

        @Override
        public Integer call() throws Exception {
            return guarded("table", () -> {
                if (out != null) {
                    Path dir = out.toAbsolutePath().getParent();
                    check(dir != null && Files.isDirectory(dir), "--out " + out + ": the folder " + dir + " does not exist");
                }
                Clusters c = Clusters.read(clusters);
                long t0 = System.nanoTime();
                List<Tables.Row> rows = Tables.plan(c, Planner.Options.DEFAULT);
                String command = "./flowblend capacity table --clusters " + Tables.display(clusters)
                        + (out != null ? " --out " + Tables.display(out) : "");
                String md = Tables.markdown(c, rows, command);
                if (out == null) {
                    System.out.print(md);
                } else {
                    try {
                        Files.writeString(out, md, StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    System.out.printf(Locale.ROOT, "wrote %s: %d clusters x %d volumes in %.1f s%n", out,
                            c.clusters().size(), c.ratesPerDay().size(), (System.nanoTime() - t0) / 1e9);
                }
                return 0;
            });
        }
    }
}
