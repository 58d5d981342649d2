package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flowblend.cli.KubeRender.Rendered;
import dev.flowblend.runtime.ModelFamily;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * deploy/kubernetes: every kustomization renders with {@code kubectl kustomize}, every object
 * binds to fabric8's typed model without an unknown field, and the objects and the cluster config
 * in their ConfigMap pass {@link KubeChecks} and {@link KubeConfigChecks}. Without kubectl these
 * tests are skipped, and say so on stderr. {@link KubernetesManifestsBadInputTest} shows that each
 * check fails on a manifest that breaks its rule.
 */
class KubernetesManifestsTest {
    static final Path KUBE = Path.of(System.getProperty("flowblend.home", "..")).resolve("deploy/kubernetes");
    static final List<String> WORKLOADS = List.of("base", "overlays/cpu", "overlays/mixed-gpu");
    static final String MONITORING = "monitoring";
    /** The tag the image build gives (the project version): the overlays must deploy that image. */
    static final String IMAGE_TAG = System.getProperty("flowblend.version", "0.1.0-SNAPSHOT");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static List<String> renderer;
    private static String noRenderer;

    /** The render command (kubectl kustomize), or the test is skipped with a message that says what was not checked. */
    static synchronized List<String> kubectl() throws IOException, InterruptedException {
        if (renderer == null && noRenderer == null) {
            List<String> why = new ArrayList<>();
            Optional<List<String>> r = KubeRender.renderer(why);
            if (r.isPresent()) {
                renderer = r.get();
            } else {
                noRenderer = String.join("; ", why) + ": the Kubernetes manifests under deploy/kubernetes were NOT "
                        + "rendered or checked (install kubectl with kustomize v5+ to run these tests)";
                System.err.println("WARNING: " + noRenderer);
            }
        }
        if (renderer == null) {
            Assumptions.abort(noRenderer);
        }
        return renderer;
    }

    private static ModelFamily family;

    /** The bundled family (loaded once: it checks every model file's sha256). */
    static synchronized ModelFamily family() {
        if (family == null) {
            family = ModelFamily.load(ModelFamily.defaultDirectory());
        }
        return family;
    }

    /** Both checkers over one rendered kustomization. */
    static List<String> problems(Rendered r, Path scratch) throws IOException {
        List<String> p = new ArrayList<>(KubeChecks.check(r));
        p.addAll(KubeConfigChecks.check(r, family(), scratch));
        return p;
    }

    @Test
    void everyKustomizationUnderDeployKubernetes_isOneThisTestRenders() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(KUBE)) {
            files = s.filter(f -> f.getFileName().toString().equals("kustomization.yaml")).toList();
        }
        List<String> found = new ArrayList<>();
        List<String> components = new ArrayList<>();
        for (Path f : files) {
            String dir = KUBE.relativize(f.getParent()).toString().replace('\\', '/');
            // a Component renders only inside the overlay that includes it
            (Files.readString(f).contains("\nkind: Component") ? components : found).add(dir);
        }
        List<String> tested = Stream.concat(WORKLOADS.stream(), Stream.of(MONITORING)).sorted().toList();
        assertEquals(tested, found.stream().sorted().toList(), "a kustomization that no test renders");
        for (String c : components) {
            boolean included = false;
            for (String w : WORKLOADS) {
                included |= Files.readString(KUBE.resolve(w).resolve("kustomization.yaml")).contains("../../" + c);
            }
            assertTrue(included, "component " + c + " is included by no overlay this test renders");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/mixed-gpu"})
    void workloads_renderTypedAndPassEveryCheck(String dir, @TempDir Path scratch) throws Exception {
        Rendered r = KubeRender.render(kubectl(), KUBE.resolve(dir));
        assertEquals(List.of(), problems(r, scratch), dir);
        // what the checks looked at, so that an empty or partial render cannot pass them vacuously
        assertEquals(List.of("flowblend-large-worker", "flowblend-orchestrator", "flowblend-small-worker"),
                r.all(Deployment.class).stream().map(KubeChecks::name).sorted().toList());
        assertEquals(List.of("flowblend-large-workers", "flowblend-orchestrator", "flowblend-small-workers"),
                r.all(Service.class).stream().map(KubeChecks::name).sorted().toList());
        assertEquals(2, r.all(HorizontalPodAutoscaler.class).size());
        assertEquals(1, r.all(ConfigMap.class).size());
    }

    @Test
    void mixedGpu_eachPoolOnItsGpuClass_oneGpuPerWorker_cudaImage() throws Exception {
        Rendered r = KubeRender.render(kubectl(), KUBE.resolve("overlays/mixed-gpu"));
        Map<String, String> h100 = Map.of("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3");
        Map<String, String> l4 = Map.of("nvidia.com/gpu.product", "NVIDIA-L4");
        PodSpec large = KubeChecks.pod(r.named(Deployment.class, "flowblend-large-worker").orElseThrow());
        PodSpec small = KubeChecks.pod(r.named(Deployment.class, "flowblend-small-worker").orElseThrow());
        PodSpec orch = KubeChecks.pod(r.named(Deployment.class, "flowblend-orchestrator").orElseThrow());
        assertTrue(schedulable(large, h100) && !schedulable(large, l4), "large pool: big GPUs only");
        assertTrue(schedulable(small, l4) && !schedulable(small, h100), "small pool: cheaper GPUs only");
        for (PodSpec worker : List.of(large, small)) {
            assertTrue(worker.getTolerations().stream().anyMatch(t -> "nvidia.com/gpu".equals(t.getKey())
                    && "Exists".equals(t.getOperator()) && "NoSchedule".equals(t.getEffect())), "tolerates GPU nodes' taint");
            assertEquals(new Quantity("1"), worker.getContainers().get(0).getResources().getLimits().get("nvidia.com/gpu"));
            assertEquals("flowblend:" + IMAGE_TAG + "-gpu", worker.getContainers().get(0).getImage());
        }
        assertTrue(orch.getTolerations() == null || orch.getTolerations().isEmpty(), "the orchestrator stays off GPU nodes");
        assertFalse(orch.getContainers().get(0).getResources().getLimits().containsKey("nvidia.com/gpu"));
    }

    @Test
    void cpu_noGpus_modelsFromHostPath_onePodEach() throws Exception {
        Rendered r = KubeRender.render(kubectl(), KUBE.resolve("overlays/cpu"));
        for (Deployment d : r.all(Deployment.class)) {
            PodSpec pod = KubeChecks.pod(d);
            assertEquals("flowblend:" + IMAGE_TAG, pod.getContainers().get(0).getImage());
            assertFalse(pod.getContainers().get(0).getResources().getLimits().containsKey("nvidia.com/gpu"), KubeChecks.name(d));
            assertTrue(pod.getAffinity() == null && (pod.getTolerations() == null || pod.getTolerations().isEmpty()));
            var models = pod.getVolumes().stream().filter(v -> v.getName().equals("models")).findFirst().orElseThrow();
            assertEquals("/flowblend/models", models.getHostPath().getPath());
            assertEquals(null, models.getPersistentVolumeClaim());
            assertTrue(d.getSpec().getReplicas() == null || d.getSpec().getReplicas() == 1, KubeChecks.name(d));
        }
        for (HorizontalPodAutoscaler h : r.all(HorizontalPodAutoscaler.class)) {
            assertEquals(1, h.getSpec().getMinReplicas());
        }
    }

    /**
     * The scrape job keeps exactly each flowblend pod's metrics port and labels it with namespace
     * and pod, the labels the adapter's rule maps to the objects the pools' HPAs ask about; the
     * rule serves the metric the HPAs name.
     */
    @Test
    void monitoring_scrapesEachPodsMetricsPort_adapterServesTheHpaMetric() throws Exception {
        Rendered mon = KubeRender.render(kubectl(), KUBE.resolve(MONITORING));
        assertEquals(List.of(), KubeChecks.check(mon));
        JsonNode prom = YAML.readTree(mon.named(ConfigMap.class, "flowblend-prometheus").orElseThrow()
                .getData().get("prometheus.yml"));
        JsonNode adapter = YAML.readTree(mon.named(ConfigMap.class, "flowblend-prometheus-adapter").orElseThrow()
                .getData().get("config.yaml"));
        JsonNode job = prom.path("scrape_configs").get(0);
        JsonNode sd = job.path("kubernetes_sd_configs").get(0);
        assertEquals("pod", sd.path("role").asText());
        JsonNode rule = adapter.path("rules").get(0);
        assertTrue(rule.path("seriesQuery").asText().startsWith(KubeConfigChecks.PENDING_METRIC + "{"));
        assertEquals(KubeConfigChecks.PENDING_METRIC, rule.path("name").path("as").asText());
        assertEquals("namespace", rule.path("resources").path("overrides").path("namespace").path("resource").asText());
        assertEquals("pod", rule.path("resources").path("overrides").path("pod").path("resource").asText());
        for (String dir : WORKLOADS) {
            Rendered r = KubeRender.render(kubectl(), KUBE.resolve(dir));
            for (Deployment d : r.all(Deployment.class)) {
                String ns = d.getMetadata().getNamespace();
                assertTrue(sd.path("namespaces").path("names").toString().contains("\"" + ns + "\""),
                        "the scrape job watches namespace " + ns);
                String pod = KubeChecks.name(d) + "-5d8c7b9f4-x2x7q";
                String port = d.getSpec().getTemplate().getMetadata().getAnnotations().get("prometheus.io/port");
                List<PrometheusTargets.Target> t = PrometheusTargets.targets(job, d, pod);
                assertEquals(1, t.size(), dir + " " + KubeChecks.name(d) + ": " + t);
                assertEquals("http://" + PrometheusTargets.POD_IP + ":" + port + "/metrics", t.get(0).url());
                assertEquals(ns, t.get(0).labels().get("namespace"));
                assertEquals(pod, t.get(0).labels().get("pod"));
            }
            for (HorizontalPodAutoscaler h : r.all(HorizontalPodAutoscaler.class)) {
                assertEquals(rule.path("name").path("as").asText(), h.getSpec().getMetrics().get(0).getPods().getMetric().getName());
            }
        }
    }

    /**
     * promtool's own check of prometheus.yml. Debian's promtool is built without Kubernetes service
     * discovery and rejects kubernetes_sd_configs as an unknown field; with such a build the file is
     * checked with that block swapped for a static target (global settings, relabel rules and
     * regexes still checked), and the test says so on stderr.
     */
    @Test
    void monitoring_prometheusConfig_passesPromtool(@TempDir Path dir) throws Exception {
        Optional<Path> promtool = KubeRender.onPath("promtool");
        if (promtool.isEmpty()) {
            String msg = "promtool is not on the PATH: deploy/kubernetes/monitoring/prometheus.yml was NOT checked by promtool";
            System.err.println("WARNING: " + msg);
            Assumptions.abort(msg);
        }
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, Files.readString(KUBE.resolve(MONITORING).resolve("prometheus.yml")));
        PromtoolResult full = promtool(promtool.get(), file);
        if (full.exit != 0 && full.output.contains("field kubernetes_sd_configs not found")) {
            System.err.println("WARNING: " + promtool.get() + " is built without Kubernetes service discovery: prometheus.yml "
                    + "is checked with its kubernetes_sd_configs replaced by a static target");
            String yaml = Files.readString(file);
            String swapped = yaml.replaceAll("(?m)^(\\s*)kubernetes_sd_configs:\\n(\\1  .*\\n)+",
                    "$1static_configs:\n$1  - targets: [\"127.0.0.1:9100\"]\n");
            assertFalse(swapped.contains("kubernetes_sd_configs"), swapped);
            Files.writeString(file, swapped);
            full = promtool(promtool.get(), file);
        }
        assertEquals(0, full.exit, full.output);
    }

    record PromtoolResult(int exit, String output) {
    }

    static PromtoolResult promtool(Path promtool, Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(promtool.toString(), "check", "config", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        return new PromtoolResult(p.waitFor(), out);
    }

    /** Whether required node affinity admits a node with these labels. */
    private static boolean schedulable(PodSpec pod, Map<String, String> node) {
        var required = pod.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution();
        return required.getNodeSelectorTerms().stream().anyMatch(term -> term.getMatchExpressions().stream()
                .allMatch((NodeSelectorRequirement x) -> switch (x.getOperator()) {
                    case "In" -> x.getValues().contains(node.get(x.getKey()));
                    case "NotIn" -> !x.getValues().contains(node.get(x.getKey()));
                    case "Exists" -> node.containsKey(x.getKey());
                    case "DoesNotExist" -> !node.containsKey(x.getKey());
                    default -> false;
                }));
    }
}
