package dev.flowblend.cli;

import static dev.flowblend.cli.KubeChecks.name;
import static dev.flowblend.cli.KubeChecks.podLabels;

import dev.flowblend.cli.KubeProcesses.Proc;
import dev.flowblend.cli.KubeRender.Rendered;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.OrchestratorConfig.PoolConfig;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.runtime.ModelFamily;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * flowblend's own rules for a rendered manifest, checked against the cluster config that its
 * ConfigMap holds, as each process would read it: every orchestrator pool has a headless Service
 * whose name and port its dns names and which selects exactly that pool's worker Deployment;
 * every worker Deployment is labelled for a configured pool and runs a worker entry that hosts the
 * pool's model; ports, probes, metrics ports, grace periods, GPUs, plan files, autoscalers and
 * NetworkPolicies agree with the config. An unknown pool anywhere is a problem.
 */
final class KubeConfigChecks {
    static final String POOL_LABEL = "flowblend.dev/pool";
    static final String PENDING_METRIC = "flowblend_inference_pending_requests";
    /** Seconds of grace beyond the drain and the preStop pause: the JVM's exit after the drain. */
    static final int GRACE_MARGIN_SECONDS = 10;

    private KubeConfigChecks() {
    }

    static List<String> check(Rendered r, ModelFamily family, Path scratch) throws IOException {
        List<String> p = new ArrayList<>();
        List<Proc> procs = KubeProcesses.of(r, scratch, p);
        List<Proc> orchestrators = procs.stream().filter(x -> x.orchestrator() != null).toList();
        if (procs.stream().map(Proc::clusterFile).distinct().count() > 1) {
            p.add("the processes read different cluster configs: " + procs.stream().map(Proc::clusterFile).distinct().toList());
        }
        if (orchestrators.isEmpty()) {
            p.add("no orchestrator Deployment (or its config was rejected)");
        }
        for (Proc o : orchestrators) {
            orchestrator(r, o, procs, family, p);
        }
        List<String> pools = orchestrators.stream().flatMap(o -> o.orchestrator().pools().stream()).map(PoolConfig::name)
                .distinct().toList();
        p.addAll(KubeSecurityChecks.check(r, procs));
        for (Proc w : procs) {
            common(r, w, p);
            if (w.worker() != null && !orchestrators.isEmpty()) {
                worker(w, pools, family, p);
            }
        }
        return p;
    }

    private static void orchestrator(Rendered r, Proc o, List<Proc> procs, ModelFamily family, List<String> p) {
        OrchestratorConfig c = o.orchestrator();
        String what = o.what();
        probes(o, probePort(c.port(), c.security().healthPort()), "flowblend.v1.GenerationService", p);
        for (PoolConfig pool : c.pools()) {
            pool(r, o, pool, procs, family, p);
        }
        for (String pool : c.textEncoderPools()) {
            hosting(pool, family.byRole(ModelFamily.ROLE_TEXT_ENCODER).name(), "text_encoder_pools", o, procs, p);
        }
        for (String pool : c.decoderPools()) {
            hosting(pool, family.byRole(ModelFamily.ROLE_DECODER).name(), "decoder_pools", o, procs, p);
        }
        // as the orchestrator starts: presets and the config's plans by name, else default_plan is a
        // file; the default plan's pools must exist (the others' too, or their requests would fail)
        Map<String, StagePlan> plans = new java.util.HashMap<>(StagePlan.PRESETS);
        c.plans().forEach((name, file) -> plan(o, "plans." + name, file, p).ifPresent(pl -> plans.put(name, pl)));
        Optional<StagePlan> def = plans.containsKey(c.defaultPlan()) ? Optional.of(plans.get(c.defaultPlan()))
                : c.plans().containsKey(c.defaultPlan()) ? Optional.empty() : plan(o, "default_plan", c.defaultPlan(), p);
        List<StagePlan> used = new ArrayList<>(c.plans().keySet().stream().filter(plans::containsKey).map(plans::get).toList());
        def.ifPresent(used::add);
        for (StagePlan plan : used) {
            plan.pools().stream().filter(x -> c.pool(x) == null).distinct().forEach(x -> p.add(what + ": plan '"
                    + plan.name() + "' names pool '" + x + "', which the orchestrator config lacks (pools "
                    + c.pools().stream().map(PoolConfig::name).toList() + ")"));
        }
        ContainerPort grpc = port(o.container(), c.port());
        if (grpc != null) {
            List<NetworkPolicyIngressRule> rules = KubeChecks.admitting(r, o.deployment(), grpc);
            if (rules != null && rules.isEmpty()) {
                p.add(what + ": no NetworkPolicy rule admits clients to gRPC port " + c.port());
            }
            boolean served = r.all(Service.class).stream()
                    .filter(s -> !"None".equals(s.getSpec().getClusterIP()))
                    .filter(s -> KubeChecks.selects(s.getSpec().getSelector(), podLabels(o.deployment())))
                    .anyMatch(s -> s.getSpec().getPorts().stream().anyMatch(sp -> grpc.equals(
                            KubeChecks.containerPort(o.deployment(), target(sp)))));
            if (!served) {
                p.add(what + ": no (non-headless) Service gives clients the orchestrator's gRPC port " + c.port());
            }
        }
    }

    /** The pool's dns names a headless Service of the manifest that selects exactly its worker Deployment. */
    private static void pool(Rendered r, Proc o, PoolConfig pool, List<Proc> procs, ModelFamily family, List<String> p) {
        String what = o.what() + ": pool '" + pool.name() + "'";
        if (family.byName(pool.model()).isEmpty()) {
            p.add(what + " serves model '" + pool.model() + "', which the model family's manifest lacks");
        }
        if (pool.dns() == null) {
            p.add(what + " lists static endpoints " + pool.endpoints() + "; pods come and go, so name the pool's headless "
                    + "Service in 'dns'");
            return;
        }
        String host = pool.dns().substring(0, pool.dns().lastIndexOf(':'));
        int port = Integer.parseInt(pool.dns().substring(pool.dns().lastIndexOf(':') + 1));
        String[] parts = host.split("\\.");
        String ns = o.deployment().getMetadata().getNamespace();
        if (parts.length >= 2 && !parts[1].equals(ns) || parts.length >= 3 && !parts[2].equals("svc")) {
            p.add(what + " dns '" + pool.dns() + "' is not a Service of namespace '" + ns + "' (want NAME, NAME." + ns
                    + " or NAME." + ns + ".svc.CLUSTER-DOMAIN)");
            return;
        }
        Optional<Service> svc = r.named(Service.class, parts[0]);
        if (svc.isEmpty()) {
            p.add(what + " dns '" + pool.dns() + "' names Service '" + parts[0] + "', which the manifests lack "
                    + "(every pool needs its headless Service)");
            return;
        }
        String sw = what + " Service " + parts[0];
        if (!"None".equals(svc.get().getSpec().getClusterIP())) {
            p.add(sw + " is not headless (clusterIP: None): its DNS name would resolve to one virtual IP, not one "
                    + "address per ready worker");
        }
        if (Boolean.TRUE.equals(svc.get().getSpec().getPublishNotReadyAddresses())) {
            p.add(sw + " publishes not-ready addresses: workers still loading would get steps");
        }
        Optional<ServicePort> sp = svc.get().getSpec().getPorts().stream().filter(x -> x.getPort() == port).findFirst();
        if (sp.isEmpty()) {
            p.add(sw + " has no port " + port + " (the pool's dns port)");
        }
        List<Deployment> selected = KubeChecks.deploymentsSelectedBy(r, svc.get());
        if (selected.size() != 1) {
            p.add(sw + " selects the pods of " + selected.stream().map(KubeChecks::name).toList()
                    + "; want exactly the pool's one worker Deployment");
            return;
        }
        Deployment d = selected.get(0);
        if (!pool.name().equals(podLabels(d).get(POOL_LABEL))) {
            p.add(sw + " selects Deployment " + name(d) + ", whose pods are labelled " + POOL_LABEL + "="
                    + podLabels(d).get(POOL_LABEL));
        }
        Optional<Proc> w = procs.stream().filter(x -> x.deployment() == d && x.worker() != null).findFirst();
        if (w.isEmpty()) {
            p.add(sw + " selects Deployment " + name(d) + ", which runs no worker that the launcher accepts");
            return;
        }
        if (!w.get().worker().models().contains(pool.model())) {
            p.add(what + " serves model '" + pool.model() + "' but its workers (entry '" + w.get().worker().name()
                    + "') host " + w.get().worker().models());
        }
        if (sp.isPresent() && !Objects.equals(KubeChecks.containerPort(d, target(sp.get())), port(w.get().container(),
                w.get().worker().port()))) {
            p.add(sw + " port " + port + " does not reach the worker's gRPC port " + w.get().worker().port());
        }
        autoscaled(r, d, what, p);
        onlyFromOrchestrator(r, d, w.get().worker().port(), o.deployment(), what, p);
    }

    private static void autoscaled(Rendered r, Deployment d, String what, List<String> p) {
        List<HorizontalPodAutoscaler> hpas = r.all(HorizontalPodAutoscaler.class).stream()
                .filter(h -> name(d).equals(h.getSpec().getScaleTargetRef().getName())).toList();
        if (hpas.size() != 1) {
            p.add(what + ": " + hpas.size() + " HorizontalPodAutoscalers scale Deployment " + name(d) + "; want exactly 1");
            return;
        }
        boolean onQueue = Objects.requireNonNullElse(hpas.get(0).getSpec().getMetrics(),
                        List.<io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec>of()).stream()
                .anyMatch(m -> "Pods".equals(m.getType()) && m.getPods() != null
                        && PENDING_METRIC.equals(m.getPods().getMetric().getName())
                        && "AverageValue".equals(m.getPods().getTarget().getType()));
        if (!onQueue) {
            p.add(what + ": HorizontalPodAutoscaler " + name(hpas.get(0)) + " does not scale on the pods' "
                    + PENDING_METRIC + " (type Pods, target AverageValue): the queue depth per worker");
        }
    }

    /** Only the orchestrator's pods reach a worker's gRPC port. */
    private static void onlyFromOrchestrator(Rendered r, Deployment worker, int port, Deployment orchestrator,
                                             String what, List<String> p) {
        ContainerPort cp = KubeChecks.containerPort(worker, new IntOrString(port));
        List<NetworkPolicyIngressRule> rules = cp == null ? List.of() : KubeChecks.admitting(r, worker, cp);
        if (rules == null) {
            return;  // KubeChecks reports the missing isolation
        }
        boolean admitted = false;
        for (NetworkPolicyIngressRule rule : rules) {
            List<NetworkPolicyPeer> from = Objects.requireNonNullElse(rule.getFrom(), List.of());
            if (from.isEmpty()) {
                p.add(what + ": a NetworkPolicy rule admits every source to worker port " + port);
            }
            for (NetworkPolicyPeer peer : from) {
                List<String> others = r.all(Deployment.class).stream().filter(d -> d != orchestrator)
                        .filter(d -> KubeChecks.selects(peer.getPodSelector(), podLabels(d))).map(KubeChecks::name).toList();
                if (peer.getIpBlock() != null || peer.getNamespaceSelector() != null || peer.getPodSelector() == null
                        || !others.isEmpty()) {
                    p.add(what + ": a NetworkPolicy rule admits more than the orchestrator to worker port " + port
                            + (others.isEmpty() ? " (an ipBlock or namespaceSelector)" : ": " + others));
                }
                admitted |= KubeChecks.selects(peer.getPodSelector(), podLabels(orchestrator));
            }
        }
        if (!admitted) {
            p.add(what + ": no NetworkPolicy rule admits the orchestrator to worker port " + port);
        }
    }

    /** The pool that hosts the text encoder / decoder runs workers that host it. */
    private static void hosting(String pool, String model, String key, Proc o, List<Proc> procs, List<String> p) {
        for (Proc w : procs) {
            if (w.worker() != null && pool.equals(podLabels(w.deployment()).get(POOL_LABEL))
                    && !w.worker().models().contains(model)) {
                p.add(o.what() + ": " + key + " is '" + pool + "' but its workers (entry '" + w.worker().name()
                        + "') do not host '" + model + "'");
            }
        }
    }

    private static Optional<StagePlan> plan(Proc o, String key, String file, List<String> p) {
        Optional<Path> local = o.file(file);
        if (local.isEmpty()) {
            p.add(o.what() + ": " + key + " file '" + file + "' is no key of a ConfigMap the orchestrator mounts");
            return Optional.empty();
        }
        try {
            return Optional.of(StagePlan.load(local.get()));
        } catch (RuntimeException e) {
            p.add(o.what() + ": " + key + " file '" + file + "' is rejected: " + KubeProcesses.rootMessage(e));
            return Optional.empty();
        }
    }

    private static void worker(Proc w, List<String> pools, ModelFamily family, List<String> p) {
        String what = w.what();
        String pool = podLabels(w.deployment()).get(POOL_LABEL);
        if (pool == null || !pools.contains(pool)) {
            p.add(what + ": Deployment " + name(w.deployment()) + " is labelled for pool '" + pool + "' ("
                    + POOL_LABEL + "), which the orchestrator config lacks (pools " + pools + ")");
        }
        w.worker().models().stream().filter(m -> family.byName(m).isEmpty()).forEach(m ->
                p.add(what + ": worker entry '" + w.worker().name() + "' hosts model '" + m + "', which the family lacks"));
        probes(w, probePort(w.worker().port(), w.worker().security().healthPort()), "inference.GRPCInferenceService", p);
        if (w.container().getStartupProbe() == null) {
            p.add(what + ": no startupProbe: model loading would count against the liveness probe");
        }
        if (w.argument("--instance") == null || !w.container().getArgs().contains("$(POD_NAME)")) {
            p.add(what + ": no --instance $(POD_NAME): every pod of the pool would report the same worker name");
        }
        boolean cuda = w.worker().runtime().executionProvider().startsWith("cuda");
        Quantity gpus = Optional.ofNullable(w.container().getResources().getLimits()).map(l -> l.get("nvidia.com/gpu"))
                .orElse(null);
        boolean hasGpu = gpus != null && Quantity.getAmountInBytes(gpus).signum() > 0;
        if (cuda && !hasGpu) {
            p.add(what + ": execution_provider " + w.worker().runtime().executionProvider()
                    + " but no nvidia.com/gpu limit: the pod would get no GPU");
        } else if (!cuda && hasGpu) {
            p.add(what + ": an nvidia.com/gpu limit but execution_provider cpu: the GPU would sit idle");
        }
    }

    /** What every flowblend process needs of its pod: reachable host, declared ports, metrics, grace, models. */
    private static void common(Rendered r, Proc x, List<String> p) {
        String what = x.what();
        String host = x.worker() != null ? x.worker().host() : x.orchestrator().host();
        if (!List.of("0.0.0.0", "::", "[::]").contains(host)) {
            p.add(what + ": host is " + host + "; the kubelet's probes, Prometheus and other pods reach the pod's "
                    + "address, so listen on 0.0.0.0");
        }
        int port = x.worker() != null ? x.worker().port() : x.orchestrator().port();
        if (port(x.container(), port) == null) {
            p.add(what + ": the config's port " + port + " is no containerPort");
        }
        Integer metrics = x.worker() != null ? x.worker().metricsPort() : x.orchestrator().metricsPort();
        Map<String, String> notes = Objects.requireNonNullElse(x.deployment().getSpec().getTemplate().getMetadata()
                .getAnnotations(), Map.of());
        if (metrics == null || metrics <= 0) {
            p.add(what + ": metrics_port is " + metrics + "; Prometheus, and so the HPA, needs a fixed port to scrape");
        } else {
            int m = metrics;
            ContainerPort declared = port(x.container(), m);
            if (declared == null || !"metrics".equals(declared.getName())) {
                p.add(what + ": metrics_port " + m + " is no containerPort named 'metrics'");
            }
            if (!"true".equals(notes.get("prometheus.io/scrape")) || !String.valueOf(m).equals(notes.get("prometheus.io/port"))) {
                p.add(what + ": pod annotations prometheus.io/scrape=" + notes.get("prometheus.io/scrape")
                        + ", prometheus.io/port=" + notes.get("prometheus.io/port") + "; want true and " + m);
            } else if (declared != null) {
                List<NetworkPolicyIngressRule> rules = KubeChecks.admitting(r, x.deployment(), declared);
                if (rules != null && rules.isEmpty()) {
                    p.add(what + ": no NetworkPolicy rule admits Prometheus to metrics port " + m);
                }
            }
        }
        int drain = x.worker() != null ? x.worker().drainSeconds() : x.orchestrator().drainSeconds();
        Long grace = KubeChecks.pod(x.deployment()).getTerminationGracePeriodSeconds();
        var pre = x.container().getLifecycle() == null ? null : x.container().getLifecycle().getPreStop();
        long pause = pre != null && pre.getSleep() != null ? pre.getSleep().getSeconds() : 0;
        if (grace != null && grace < drain + pause + GRACE_MARGIN_SECONDS) {
            p.add(what + ": terminationGracePeriodSeconds " + grace + " < drain_seconds " + drain + " + preStop " + pause
                    + " + " + GRACE_MARGIN_SECONDS + " s: SIGKILL would cut the drain short");
        }
        String models = Objects.requireNonNullElse(x.container().getEnv(), List.<io.fabric8.kubernetes.api.model.EnvVar>of())
                .stream().filter(e -> e.getName().equals("FLOWBLEND_MODELS")).map(e -> e.getValue()).findFirst()
                .orElse(x.worker() != null ? x.worker().modelsDir() : x.orchestrator().modelsDir());
        if (models == null || !x.onDataVolume(models)) {
            p.add(what + ": the model family (" + (models == null ? "FLOWBLEND_MODELS unset" : models)
                    + ") is on no mounted data volume");
        }
    }

    /** The kubelet probes the plaintext health-only port where there is one (the main port may require TLS). */
    private static int probePort(int port, Integer healthPort) {
        return healthPort != null ? healthPort : port;
    }

    private static void probes(Proc x, int port, String readyService, List<String> p) {
        Container c = x.container();
        grpc(x, "readinessProbe", c.getReadinessProbe(), port, readyService, p);
        grpc(x, "livenessProbe", c.getLivenessProbe(), port, "", p);
        if (c.getStartupProbe() != null) {
            grpc(x, "startupProbe", c.getStartupProbe(), port, "", p);
        }
    }

    private static void grpc(Proc x, String kind, Probe probe, int port, String service, List<String> p) {
        if (probe == null) {
            return;  // KubeChecks reports it
        }
        String actual = probe.getGrpc() == null ? null : Objects.requireNonNullElse(probe.getGrpc().getService(), "");
        if (probe.getGrpc() == null || probe.getGrpc().getPort() != port || !service.equals(actual)) {
            p.add(x.what() + ": " + kind + " must be gRPC health on port " + port + " service '" + service + "'; it is "
                    + (probe.getGrpc() == null ? "not gRPC" : "port " + probe.getGrpc().getPort() + " service '" + actual + "'"));
        }
    }

    private static ContainerPort port(Container c, int number) {
        return Objects.requireNonNullElse(c.getPorts(), List.<ContainerPort>of()).stream()
                .filter(cp -> cp.getContainerPort() == number).findFirst().orElse(null);
    }

    private static IntOrString target(ServicePort sp) {
        return sp.getTargetPort() != null ? sp.getTargetPort() : new IntOrString(sp.getPort());
    }
}
