package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.telemetry.MetricsEndpoint;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Prometheus scrapes from each process after a generation: the series operators autoscale
 * and alert on are there, and Prometheus's own linter ({@code promtool check metrics}) accepts the
 * text. The promtool part is skipped, saying so, where Prometheus is not installed.
 */
class PrometheusExpositionTest {

    @Test
    void scrape_afterOneGeneration_workersShowPendingPerModelOrchestratorStepsPerPool(@TempDir Path dir)
            throws Exception {
        List<AutoCloseable> open = new ArrayList<>();
        try {
            MetricsEndpoint largeMetrics = track(open, MetricsEndpoint.start("127.0.0.1", 0, "metrics_port"));
            MetricsEndpoint smallMetrics = track(open, MetricsEndpoint.start("127.0.0.1", 0, "metrics_port"));
            MetricsEndpoint orchMetrics = track(open, MetricsEndpoint.start("127.0.0.1", 0, "metrics_port"));
            String large = worker(open, "large-0", List.of("velocity-large", "text-encoder", "decoder"), largeMetrics);
            String small = worker(open, "small-0", List.of("velocity-small"), smallMetrics);
            OrchestratorConfig config = new OrchestratorConfig(null, 0, null, List.of(
                    new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of(large), null, 0),
                    new OrchestratorConfig.PoolConfig("small", "velocity-small", List.of(small), null, 0)),
                    null, null, null, Map.of(), null, 0, 2, 0, 0, 5, null, null, null, null, OrchestratorConfig.Security.PLAINTEXT);
            String name = InProcessServerBuilder.generateName();
            OrchestratorServer orchestrator = track(open, new OrchestratorServer(config, TestCluster.FAMILY,
                    InProcessServerBuilder.forName(name), a -> InProcessChannelBuilder.forName(a).build(),
                    orchMetrics.registry()).start());
            ManagedChannel client = InProcessChannelBuilder.forName(name).build();
            open.add(client::shutdownNow);
            GenerationServiceGrpc.newBlockingStub(client).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .generate(GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSeed(7).setSteps(10)
                            .setPlan(Plan.newBuilder().setPreset("flowblending")).build())
                    .forEachRemaining(e -> { });

            String smallText = scrape(smallMetrics);
            assertTrue(smallText.contains("flowblend_inference_pending_requests{model=\"velocity-small\",role=\"small\","
                    + "worker=\"small-0\"} 0.0"), smallText);
            assertTrue(smallText.contains("flowblend_inference_requests_total{model=\"velocity-small\","
                    + "outcome=\"success\",role=\"small\",worker=\"small-0\"}"), smallText);
            String largeText = scrape(largeMetrics);
            for (String model : List.of("velocity-large", "text-encoder", "decoder")) {
                assertTrue(largeText.contains("flowblend_inference_pending_requests{model=\"" + model + "\""), model);
            }
            String orchText = scrape(orchMetrics);
            for (String pool : List.of("large", "small")) {
                assertTrue(orchText.contains("flowblend_step_duration_seconds_count{pool=\"" + pool + "\"}"), orchText);
                assertTrue(orchText.contains("flowblend_pool_healthy_endpoints{pool=\"" + pool + "\"} 1.0"), orchText);
            }
            assertTrue(orchText.contains("flowblend_generations_total{outcome=\"success\",plan=\"flowblending\"} 1.0"),
                    orchText);
            for (String text : List.of(smallText, largeText, orchText)) {
                promtoolAccepts(text, dir);
            }
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) {
                open.get(i).close();
            }
        }
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> open, T c) {
        open.add(c);
        return c;
    }

    private static String worker(List<AutoCloseable> open, String name, List<String> models, MetricsEndpoint metrics)
            throws IOException {
        WorkerConfig c = new WorkerConfig(name, name.substring(0, name.indexOf('-')), null, 0, null, models,
                RuntimeOptions.cpu(1), null, null, 0, 5, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        String address = "inproc-" + InProcessServerBuilder.generateName() + ":0";
        track(open, new WorkerServer(c, TestCluster.FAMILY, InProcessServerBuilder.forName(address),
                metrics.registry()).start());
        return address;
    }

    private static String scrape(MetricsEndpoint m) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + m.port() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private static void promtoolAccepts(String text, Path dir) throws IOException, InterruptedException {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!Files.isExecutable(promtool)) {
            System.out.println("SKIPPED promtool check metrics: /usr/bin/promtool is absent (Debian package "
                    + "'prometheus'; .ci/install-tools installs it)");
            return;
        }
        Path in = Files.writeString(dir.resolve("metrics.txt"), text);
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(in.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, p.exitValue(), "promtool check metrics: " + out);
    }
}
