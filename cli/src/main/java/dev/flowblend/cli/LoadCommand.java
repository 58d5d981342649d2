package dev.flowblend.cli;

import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.VideoFormat;
import dev.flowblend.runtime.Json;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A bounded load against a running orchestrator: generation i asks for prompt i mod P with seed
 * seed_base + i, so two runs with the same flags ask for the same videos and their frame hashes
 * can be compared index by index (the multi-host scenario does that: fault-free, then under faults).
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Run a bounded number of generations with bounded concurrency; report status, wall time, "
                + "frame hashes and steps per worker of each.")
final class LoadCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Option(names = "--prompt", description = "A prompt; repeat for several, used in turn "
            + "(default: \"a red circle moving right\").")
    List<String> prompts = List.of("a red circle moving right");

    @Option(names = "--seed-base", description = "Generation i uses seed seed_base + i (default: ${DEFAULT-VALUE}).")
    long seedBase = 1;

    @Option(names = "--count", description = "Generations in all, 1..100000 (default: ${DEFAULT-VALUE}).")
    int count = 8;

    @Option(names = "--concurrency", description = "Generations in flight at once, 1..1024 (default: ${DEFAULT-VALUE}).")
    int concurrency = 2;

    @Option(names = "--steps", description = "Sampling steps (default: the family's, 50).")
    int steps = 0;

    @Option(names = "--plan", description = "Preset or plan file (default: the orchestrator's).")
    String plan;

    @Option(names = "--timeout", description = "Deadline of each generation in seconds, 1..3600 (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds = 120;

    @Option(names = "--await-ready", description = "First wait up to this many seconds, 0..600, for the orchestrator's "
            + "readiness (health service flowblend.v1.GenerationService) (default: ${DEFAULT-VALUE}: no wait).")
    double awaitReadySeconds = 0;

    @Option(names = "--stop-file", description = "Start no more generations once this file exists (those running "
            + "finish); --count still bounds the run. A script ends a load this way when its scenario is over.")
    Path stopFile;

    @Option(names = "--json", description = "Print the whole report, every generation's record included, as one JSON "
            + "line (the last stdout line).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        check(count >= 1 && count <= 100_000, "--count is " + count + "; must be 1 to 100000");
        check(concurrency >= 1 && concurrency <= 1024, "--concurrency is " + concurrency + "; must be 1 to 1024");
        check(timeoutSeconds >= 1 && timeoutSeconds <= 3600, "--timeout is " + timeoutSeconds + " s; must be 1 to 3600");
        check(awaitReadySeconds >= 0 && awaitReadySeconds <= 600,
                "--await-ready is " + awaitReadySeconds + " s; must be 0 to 600");
        check(!prompts.isEmpty() && prompts.stream().noneMatch(String::isBlank), "--prompt must not be empty");
        GenerateRequest.Builder base = GenerateRequest.newBuilder().setSteps(steps).setIncludeFrames(true)
                .setFormat(VideoFormat.VIDEO_FORMAT_GIF);  // the cheaper encoding; frames are what is compared
        if (plan != null) {
            base.setPlan(Plans.toProto(plan));
        }
        client.check();
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
            long t0 = System.nanoTime();
            List<LoadRun.Record> records = new LoadRun(ch, TimeUnit.SECONDS.toMillis(timeoutSeconds)).run(count,
                    concurrency, i -> base.clone().setPrompt(prompts.get(i % prompts.size())).setSeed(seedBase + i)
                            .build(), () -> stopFile != null && Files.exists(stopFile));
            Map<String, Object> summary = LoadRun.summary(records, (System.nanoTime() - t0) / 1e9);
            summary.put("target", target);
            summary.put("concurrency", concurrency);
            summary.put("stopped_by_file", records.size() < count);
            printHuman(summary, records);
            if (json) {
                System.out.println(Json.writeCompact(summary));
            }
            return 0;
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void printHuman(Map<String, Object> s, List<LoadRun.Record> records) {
        for (LoadRun.Record r : records) {
            if (!r.ok()) {
                System.out.println("generation " + r.index() + " (seed " + r.seed() + "): " + r.status() + ": "
                        + r.description());
            }
        }
        System.out.printf(Locale.ROOT, "%s of %s generations completed in %s s (concurrency %s); p50 %s ms, p95 %s ms;"
                        + " steps by worker %s%n", s.get("completed"), s.get("generations"), s.get("run_s"),
                s.get("concurrency"), s.get("p50_ms"), s.get("p95_ms"), s.get("steps_by_worker"));
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
