package dev.flowblend.cli;

import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.VideoFormat;
import dev.flowblend.runtime.Json;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A load against a running orchestrator: generation i of a point asks for prompt i mod P with
 * seed seed_base + i, so two runs with the same flags ask for the same videos and their frame
 * hashes can be compared index by index (the multi-host scenario does that: fault-free, then
 * under faults). A run is one point or a sweep (several concurrencies or rates, times several
 * plans); docs/load.md describes what is measured and how.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = {"Run generations against an orchestrator, closed loop (--concurrency N: N in flight, the next "
                + "starting when one ends; latency from each generation's start) or open loop (--rate R: Poisson "
                + "arrivals at R videos/s, each started at its scheduled time whatever is in flight; latency from the "
                + "scheduled arrival, so lateness of the client counts); report per point (plan x load) the status, "
                + "throughput, latency percentiles, and, with --metrics, the pools' utilisation and queueing.",
                "Bad input exits 2 with a one-line message naming the flag. Failed generations are counted by "
                        + "status in the report (exit 0); an orchestrator not ready within --await-ready exits 1."})
final class LoadCommand implements Callable<Integer> {
    /** Warm-up generation i uses seed seed_base + this + i: other videos than the recorded ones, the same prompts. */
    static final long WARMUP_SEED_OFFSET = 1_000_000_000L;

    @Mixin
    ClientOptions client = new ClientOptions();

    @Option(names = "--prompt", description = "A prompt; repeat for several, used in turn "
            + "(default: \"a red circle moving right\").")
    List<String> prompts = List.of("a red circle moving right");

    @Option(names = "--seed-base", description = "Generation i uses seed seed_base + i (default: ${DEFAULT-VALUE}).")
    long seedBase = 1;

    @Option(names = "--count", description = "Generations per point (arrivals, in an open loop), 1..100000 "
            + "(default: 8; with --duration, 100000, so that the duration ends the point).")
    Integer count;

    @Option(names = "--concurrency", paramLabel = "N[,N...]", description = "Closed loop: generations in flight at "
            + "once, 1..1024; a comma-separated list sweeps, one point per value (default: 2, when --rate is not "
            + "given).")
    String concurrency;

    @Option(names = "--rate", paramLabel = "R[,R...]", description = "Open loop: Poisson arrivals at R videos/s, more "
            + "than 0 and at most 1000; a comma-separated list sweeps. Excludes --concurrency.")
    String rate;

    @Option(names = "--arrival-seed", description = "Open loop: seed of the arrival times; the same seed, the same "
            + "schedule (default: ${DEFAULT-VALUE}).")
    long arrivalSeed = 1;

    @Option(names = "--max-in-flight", description = "Open loop: an arrival that finds this many generations running "
            + "is dropped and counted as dropped_by_client, 1..1024 (default: ${DEFAULT-VALUE}).")
    int maxInFlight = 1024;

    @Option(names = "--duration", description = "Seconds per point, more than 0 and at most 86400: an open loop has "
            + "no arrival later, a closed loop starts no generation later (those running finish). Default: none; "
            + "--count alone bounds a point.")
    Double durationSeconds;

    @Option(names = "--steps", description = "Sampling steps (default: the family's, 50).")
    int steps = 0;

    @Option(names = "--video-scale", description = "Pixel upscale of the encoded video, 0..16; 0: the orchestrator's "
            + "video_scale. The encoding runs on the orchestrator's CPU and grows with the square of the scale "
            + "(default: ${DEFAULT-VALUE}).")
    int videoScale = 0;

    @Option(names = "--plan", description = "Preset or plan file, sent as is (default: the orchestrator's).")
    String plan;

    @Option(names = "--plans", paramLabel = "PLAN[,PLAN...]", description = "Presets or plan files, comma-separated: "
            + "every load value runs once per plan, the plan order rotating per load value. Each must be a preset or "
            + "a plan file this client can read. Excludes --plan.")
    String plans;

    @Option(names = "--warmup", description = "Unrecorded generations before each point, at its plan and load, "
            + "0..100000 (default: ${DEFAULT-VALUE}).")
    int warmup = 0;

    @Option(names = "--metrics", paramLabel = "URL[,URL...]", description = "Prometheus text endpoints of the "
            + "orchestrator and workers (e.g. http://127.0.0.1:9100/metrics), scraped before and after each point; "
            + "a failed scrape is reported, not fatal.")
    String metrics;

    @Option(names = "--chart-dir", description = "Write throughput.png and p95.png (against load, one series per "
            + "plan) into this folder.")
    Path chartDir;

    @Option(names = "--timeout", description = "Deadline of each generation in seconds, 1..3600 (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds = 120;

    @Option(names = "--await-ready", description = "First wait up to this many seconds, 0..600, for the orchestrator's "
            + "readiness (health service flowblend.v1.GenerationService) (default: ${DEFAULT-VALUE}: no wait).")
    double awaitReadySeconds = 0;

    @Option(names = "--stop-file", description = "Start no more generations once this file exists (those running "
            + "finish; later points do not run); --count still bounds the run. A script ends a load this way when "
            + "its scenario is over.")
    Path stopFile;

    @Option(names = "--json", description = "Print the whole report as one JSON line (the last stdout line): "
            + "points[], and for a single point also every generation's record.")
    boolean json;

    /** What the flags ask for, checked. */
    private record Setup(int count, List<LoadPoint.Load> loads, List<LoadArgs.PlanChoice> plans, List<String> urls) {
    }

    @Override
    public Integer call() throws Exception {
        Setup s;
        try {
            s = setup();
        } catch (IllegalArgumentException e) {
            System.err.println("flowblend load: " + e.getMessage());
            return 2;
        }
        if (videoScale < 0 || videoScale > 16) {
            System.err.println("flowblend load: --video-scale is " + videoScale + "; must be 0 to 16");
            return 2;
        }
        GenerateRequest.Builder base = GenerateRequest.newBuilder().setSteps(steps).setIncludeFrames(true)
                .setVideoScale(videoScale)
                .setFormat(VideoFormat.VIDEO_FORMAT_GIF);  // the cheaper encoding; frames are what is compared
        String target = client.target;
        ManagedChannel ch = client.channel(System.getenv(), System.err::println);
        try {
            if (awaitReadySeconds > 0) {
                HealthProbe.Seen seen = HealthProbe.await(ch, "flowblend.v1.GenerationService",
                        Math.round(awaitReadySeconds * 1000), 200);
                if (!seen.serving()) {
                    System.err.println("flowblend load: " + target + " not ready within " + awaitReadySeconds
                            + " s: " + seen.status());
                    return 1;
                }
            }
            LoadRun run = new LoadRun(ch, TimeUnit.SECONDS.toMillis(timeoutSeconds));
            LoadMetrics scraper = s.urls().isEmpty() ? null : new LoadMetrics(s.urls());
            AtomicBoolean fileSeen = new AtomicBoolean();  // once seen, no generation starts (this point or later)
            BooleanSupplier fileStop = () -> {
                if (stopFile != null && Files.exists(stopFile)) {
                    fileSeen.set(true);
                }
                return fileSeen.get();
            };
            List<LoadSchedule.Slot> slots = LoadSchedule.order(s.loads().size(),
                    s.plans().stream().map(LoadArgs.PlanChoice::label).toList());
            List<Map<String, Object>> points = new ArrayList<>();
            List<LoadRun.Record> lastRecords = List.of();
            boolean single = slots.size() == 1;
            // the first point always runs (with the file already there it starts nothing and says so,
            // as this command always did); later ones only while the file is absent
            for (int k = 0; k < slots.size() && (k == 0 || !fileStop.getAsBoolean()); k++) {
                LoadSchedule.Slot slot = slots.get(k);
                LoadPoint.Load load = s.loads().get(slot.loadIndex());
                LoadArgs.PlanChoice choice = s.plans().stream().filter(p -> p.label().equals(slot.plan()))
                        .findFirst().orElseThrow();
                GenerateRequest.Builder planBase = base.clone();
                choice.apply().accept(planBase);
                if (!single) {
                    System.out.println("point " + (k + 1) + "/" + slots.size() + ": plan " + choice.label() + ", "
                            + load.label());
                }
                if (warmup > 0) {
                    Outcome w = point(run, load, warmup,
                            i -> request(planBase, i, seedBase + WARMUP_SEED_OFFSET + i), fileStop);
                    long ok = w.records().stream().filter(LoadRun.Record::ok).count();
                    System.out.println("  warmup: " + ok + " of " + w.records().size() + " generations completed "
                            + "(not recorded)");
                }
                LoadMetrics.Window window = scraper == null ? null : scraper.open();
                Outcome o;
                long t0 = System.nanoTime();
                try {
                    o = point(run, load, s.count(), i -> request(planBase, i, seedBase + i), fileStop);
                } finally {
                    if (window != null) {
                        window.close();
                    }
                }
                double runSeconds = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> f = LoadPoint.figures(choice.label(), load, o.records(), o.arrivals(),
                        o.dropped(), runSeconds);
                f.put("stopped_by_file", o.cut() && fileSeen.get());
                if (window != null) {
                    f.put("metrics", window.finish());
                }
                points.add(f);
                lastRecords = o.records();
                printPoint(f, o.records(), runSeconds, load);
            }
            System.out.println();
            System.out.println(LoadPoint.HEADER);
            points.forEach(p -> System.out.println(LoadPoint.row(p)));
            List<String> charts = charts(points, s.loads().get(0).open());
            // stopped by the file: a point had fewer generations than asked, or points did not run
            boolean stopped = points.size() < slots.size()
                    || points.stream().anyMatch(p -> Boolean.TRUE.equals(p.get("stopped_by_file")));
            if (json) {
                System.out.println(Json.writeCompact(report(s, target, points, single ? lastRecords : null,
                        stopped, charts)));
            }
            return 0;
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /**
     * What one point's run gave: records of the generations started, arrivals, dropped arrivals,
     * and whether a stop (the file, or a closed loop's --duration) cut it short of what it planned.
     */
    private record Outcome(List<LoadRun.Record> records, int arrivals, int dropped, boolean cut) {
    }

    private Outcome point(LoadRun run, LoadPoint.Load load, int n, java.util.function.IntFunction<GenerateRequest> req,
                          BooleanSupplier fileStop) throws InterruptedException {
        if (load.open()) {
            long[] at = LoadSchedule.poisson(load.rate(), arrivalSeed, n,
                    durationSeconds == null ? 0 : durationSeconds);
            LoadRun.Open o = run.runOpen(at, maxInFlight, req, fileStop);
            return new Outcome(o.records(), o.arrivals(), o.dropped().size(), o.arrivals() < at.length);
        }
        long t0 = System.nanoTime();
        BooleanSupplier stop = durationSeconds == null ? fileStop
                : () -> fileStop.getAsBoolean() || System.nanoTime() - t0 > durationSeconds * 1e9;
        List<LoadRun.Record> r = run.run(n, load.concurrency(), req, stop);
        return new Outcome(r, r.size(), 0, r.size() < n);
    }

    private GenerateRequest request(GenerateRequest.Builder planBase, int i, long seed) {
        return planBase.clone().setPrompt(prompts.get(i % prompts.size())).setSeed(seed).build();
    }

    private Setup setup() {
        check(durationSeconds == null || (durationSeconds > 0 && durationSeconds <= 86_400),
                "--duration is " + durationSeconds + " s; must be more than 0 and at most 86400");
        int n = count != null ? count : durationSeconds != null ? 100_000 : 8;
        check(n >= 1 && n <= 100_000, "--count is " + n + "; must be 1 to 100000");
        check(rate == null || concurrency == null, "--rate and --concurrency exclude each other (open loop or "
                + "closed loop); give one");
        List<LoadPoint.Load> loads = new ArrayList<>();
        if (rate != null) {
            LoadArgs.rates(rate).forEach(r -> loads.add(new LoadPoint.Load(null, r)));
        } else {
            LoadArgs.concurrencies(concurrency == null ? "2" : concurrency)
                    .forEach(c -> loads.add(new LoadPoint.Load(c, null)));
        }
        check(maxInFlight >= 1 && maxInFlight <= LoadArgs.MAX_CONCURRENCY,
                "--max-in-flight is " + maxInFlight + "; must be 1 to " + LoadArgs.MAX_CONCURRENCY);
        check(warmup >= 0 && warmup <= 100_000, "--warmup is " + warmup + "; must be 0 to 100000");
        check(timeoutSeconds >= 1 && timeoutSeconds <= 3600,
                "--timeout is " + timeoutSeconds + " s; must be 1 to 3600");
        check(awaitReadySeconds >= 0 && awaitReadySeconds <= 600,
                "--await-ready is " + awaitReadySeconds + " s; must be 0 to 600");
        check(!prompts.isEmpty() && prompts.stream().noneMatch(String::isBlank), "--prompt must not be empty");
        check(steps >= 0, "--steps is " + steps + "; must be 0 or more");
        check(plan == null || plans == null, "--plan and --plans exclude each other; give one");
        List<LoadArgs.PlanChoice> choices;
        if (plans != null) {
            choices = LoadArgs.plans(plans);
        } else if (plan != null) {
            var proto = Plans.toProto(plan);  // as ever: sent as is, the orchestrator resolves the name
            choices = List.of(new LoadArgs.PlanChoice(plan, b -> b.setPlan(proto)));
        } else {
            choices = List.of(new LoadArgs.PlanChoice("default", b -> { }));
        }
        List<String> urls = metrics == null ? List.of() : LoadArgs.metricsUrls(metrics);
        check(chartDir == null || !Files.exists(chartDir) || Files.isDirectory(chartDir),
                "--chart-dir " + chartDir + " exists and is not a folder");
        client.check();
        return new Setup(n, loads, choices, urls);
    }

    /**
     * The JSON report: for a single point, first the fields this command has always printed (the
     * multi-host scenario reads them), every record included; then, always, the run's settings and
     * {@code points}.
     */
    private Map<String, Object> report(Setup s, String target, List<Map<String, Object>> points,
                                       List<LoadRun.Record> singleRecords, boolean stoppedByFile, List<String> charts) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean open = s.loads().get(0).open();
        if (singleRecords != null && points.size() == 1) {
            m.putAll(LoadRun.summary(singleRecords, (Double) points.get(0).get("run_s")));
            m.put("target", target);
            if (open) {
                m.put("rate", s.loads().get(0).rate());
            } else {
                m.put("concurrency", s.loads().get(0).concurrency());
            }
            m.put("stopped_by_file", stoppedByFile);
        } else {
            m.put("target", target);
            m.put("stopped_by_file", stoppedByFile);
        }
        m.put("loop", open ? "open" : "closed");
        m.put("count", s.count());
        m.put("warmup", warmup);
        if (open) {
            m.put("arrival_seed", arrivalSeed);
            m.put("max_in_flight", maxInFlight);
        }
        if (durationSeconds != null) {
            m.put("duration_s", durationSeconds);
        }
        m.put("points", points);
        if (!charts.isEmpty()) {
            m.put("charts", charts);
        }
        return m;
    }

    private List<String> charts(List<Map<String, Object>> points, boolean open) {
        if (chartDir == null || points.isEmpty()) {
            return List.of();
        }
        try {
            List<String> written = LoadCharts.write(points, open, chartDir).stream().map(Path::toString).toList();
            System.out.println("charts: " + String.join(", ", written));
            return written;
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("flowblend load: --chart-dir " + chartDir + ": could not write the charts: " + e);
            return List.of();
        }
    }

    private static void printPoint(Map<String, Object> f, List<LoadRun.Record> records, double runSeconds,
                                   LoadPoint.Load load) {
        int shown = 0;
        for (LoadRun.Record r : records) {
            if (!r.ok() && shown++ < 100) {
                System.out.println("generation " + r.index() + " (seed " + r.seed() + "): " + r.status() + ": "
                        + r.description());
            }
        }
        if (shown > 100) {
            System.out.println("... and " + (shown - 100) + " more failed generations (by_status counts them all)");
        }
        System.out.printf(java.util.Locale.ROOT, "%s of %s generations completed in %.2f s (%s); p50 %s ms, p95 %s ms;"
                        + " steps by worker %s%n", f.get("completed"), f.get("generations"), runSeconds, load.label(),
                f.get("p50_ms"), f.get("p95_ms"), f.get("steps_by_worker"));
        System.out.println(LoadPoint.HEADER);
        System.out.println(LoadPoint.row(f));
        if (f.get("metrics") instanceof Map<?, ?> metrics) {
            @SuppressWarnings("unchecked")
            Map<String, Object> mm = (Map<String, Object>) metrics;
            LoadPoint.metricLines(mm).forEach(System.out::println);
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
