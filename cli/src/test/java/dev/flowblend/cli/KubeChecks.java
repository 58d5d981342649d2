package dev.flowblend.cli;

import dev.flowblend.cli.KubeRender.Rendered;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checks of a rendered manifest that hold for any workload, flowblend or not: Deployments with
 * probes, resources, a pinned image, a PodDisruptionBudget and ingress isolation; Services,
 * budgets and autoscalers that select or target what exists. Each check returns problems as
 * sentences naming the object, so a test shows every one at once. The selector and NetworkPolicy
 * helpers are shared with {@link KubeConfigChecks}.
 */
final class KubeChecks {
    private static final Pattern VAR_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    private KubeChecks() {
    }

    static List<String> check(Rendered r) {
        List<String> p = new ArrayList<>(r.problems());
        namespaces(r, p);
        r.all(Deployment.class).forEach(d -> deployment(r, d, p));
        r.all(Service.class).forEach(s -> service(r, s, p));
        r.all(PodDisruptionBudget.class).forEach(b -> {
            if (deploymentsSelectedBy(r, b.getSpec().getSelector()).isEmpty()) {
                p.add("PodDisruptionBudget " + name(b) + " selects the pods of no Deployment");
            }
            if (b.getSpec().getMaxUnavailable() == null && b.getSpec().getMinAvailable() == null) {
                p.add("PodDisruptionBudget " + name(b) + " sets neither maxUnavailable nor minAvailable");
            }
        });
        r.all(HorizontalPodAutoscaler.class).forEach(h -> autoscaler(r, h, p));
        return p;
    }

    static String name(HasMetadata o) {
        return o.getMetadata().getName();
    }

    static Map<String, String> podLabels(Deployment d) {
        Map<String, String> l = d.getSpec().getTemplate().getMetadata().getLabels();
        return l == null ? Map.of() : l;
    }

    static PodSpec pod(Deployment d) {
        return d.getSpec().getTemplate().getSpec();
    }

    /** Kubernetes' label selector semantics; a null selector selects nothing. */
    static boolean selects(LabelSelector s, Map<String, String> labels) {
        if (s == null) {
            return false;
        }
        if (s.getMatchLabels() != null
                && !s.getMatchLabels().entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())))) {
            return false;
        }
        for (LabelSelectorRequirement x : s.getMatchExpressions() == null ? List.<LabelSelectorRequirement>of()
                : s.getMatchExpressions()) {
            String v = labels.get(x.getKey());
            List<String> values = x.getValues() == null ? List.of() : x.getValues();
            boolean ok = switch (x.getOperator()) {
                case "In" -> v != null && values.contains(v);
                case "NotIn" -> v == null || !values.contains(v);
                case "Exists" -> v != null;
                case "DoesNotExist" -> v == null;
                default -> false;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A Service's selector: every pair present; an empty selector makes no endpoints, so selects nothing. */
    static boolean selects(Map<String, String> serviceSelector, Map<String, String> labels) {
        return serviceSelector != null && !serviceSelector.isEmpty()
                && serviceSelector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    static List<Deployment> deploymentsSelectedBy(Rendered r, LabelSelector s) {
        return r.all(Deployment.class).stream().filter(d -> selects(s, podLabels(d))).toList();
    }

    static List<Deployment> deploymentsSelectedBy(Rendered r, Service s) {
        return r.all(Deployment.class).stream().filter(d -> selects(s.getSpec().getSelector(), podLabels(d))).toList();
    }

    /** The container port a Service targetPort or probe port names (by name or number), or null. */
    static ContainerPort containerPort(Deployment d, IntOrString port) {
        for (Container c : pod(d).getContainers()) {
            for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                if (port.getIntVal() != null ? port.getIntVal().equals(cp.getContainerPort())
                        : port.getStrVal().equals(cp.getName())) {
                    return cp;
                }
            }
        }
        return null;
    }

    /**
     * The ingress rules that admit TCP traffic to a Deployment's pods on {@code port}, from every
     * NetworkPolicy that selects them; null when no Ingress policy selects them (not isolated:
     * everything is admitted). A rule's empty 'from' admits every source.
     */
    static List<NetworkPolicyIngressRule> admitting(Rendered r, Deployment d, ContainerPort port) {
        List<NetworkPolicy> isolating = isolating(r, d);
        if (isolating.isEmpty()) {
            return null;
        }
        return isolating.stream().flatMap(n -> n.getSpec().getIngress() == null ? Stream.<NetworkPolicyIngressRule>empty()
                        : n.getSpec().getIngress().stream())
                .filter(rule -> rule.getPorts() == null || rule.getPorts().isEmpty()
                        || rule.getPorts().stream().anyMatch(np -> covers(np, port)))
                .toList();
    }

    /** The NetworkPolicies that isolate a Deployment's pods for ingress. */
    static List<NetworkPolicy> isolating(Rendered r, Deployment d) {
        return r.all(NetworkPolicy.class).stream()
                .filter(n -> selects(n.getSpec().getPodSelector(), podLabels(d)))
                .filter(n -> n.getSpec().getPolicyTypes() == null || n.getSpec().getPolicyTypes().isEmpty()
                        || n.getSpec().getPolicyTypes().contains("Ingress"))
                .toList();
    }

    private static boolean covers(NetworkPolicyPort np, ContainerPort port) {
        if (np.getProtocol() != null && !np.getProtocol().equals("TCP")) {
            return false;
        }
        if (np.getPort() == null) {
            return true;
        }
        if (np.getPort().getStrVal() != null) {
            return np.getPort().getStrVal().equals(port.getName());
        }
        int from = np.getPort().getIntVal();
        int to = np.getEndPort() == null ? from : np.getEndPort();
        return port.getContainerPort() >= from && port.getContainerPort() <= to;
    }

    private static void namespaces(Rendered r, List<String> p) {
        Set<String> cluster = Set.of("Namespace");
        List<String> seen = r.objects().stream().filter(o -> !cluster.contains(o.getKind()))
                .map(o -> Objects.requireNonNullElse(o.getMetadata().getNamespace(), "")).distinct().toList();
        if (seen.size() != 1 || seen.get(0).isEmpty()) {
            p.add("namespaced objects must all name one namespace; they name " + seen);
        } else if (!r.all(Namespace.class).isEmpty() && r.named(Namespace.class, seen.get(0)).isEmpty()) {
            p.add("the objects live in namespace '" + seen.get(0) + "' but the Namespace object is "
                    + r.all(Namespace.class).stream().map(KubeChecks::name).toList());
        }
    }

    private static void deployment(Rendered r, Deployment d, List<String> p) {
        String what = "Deployment " + name(d);
        if (!selects(d.getSpec().getSelector(), podLabels(d))) {
            p.add(what + ": its selector does not select its own pod template");
        }
        PodSpec pod = pod(d);
        if (pod.getTerminationGracePeriodSeconds() == null) {
            p.add(what + ": no terminationGracePeriodSeconds (the 30 s default may cut the drain short)");
        }
        List<String> volumes = pod.getVolumes() == null ? List.of() : pod.getVolumes().stream().map(Volume::getName).toList();
        for (Volume v : pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()) {
            if (v.getConfigMap() != null && r.named(ConfigMap.class, v.getConfigMap().getName()).isEmpty()) {
                p.add(what + ": volume '" + v.getName() + "' mounts ConfigMap '" + v.getConfigMap().getName()
                        + "', which the manifests do not contain");
            }
        }
        for (Container c : pod.getContainers()) {
            String cw = what + " container " + c.getName();
            if (c.getImage() == null || !c.getImage().matches(".*(:[^/:]+|@sha256:[0-9a-f]{64})") || c.getImage().endsWith(":latest")) {
                p.add(cw + ": image '" + c.getImage() + "' is not pinned to a tag or digest");
            }
            probe(d, cw, "readinessProbe", c.getReadinessProbe(), true, p);
            probe(d, cw, "livenessProbe", c.getLivenessProbe(), true, p);
            probe(d, cw, "startupProbe", c.getStartupProbe(), false, p);
            resources(cw, c.getResources(), p);
            for (VolumeMount m : Objects.requireNonNullElse(c.getVolumeMounts(), List.<VolumeMount>of())) {
                if (!volumes.contains(m.getName())) {
                    p.add(cw + ": volumeMount '" + m.getName() + "' names no volume of the pod");
                }
            }
            List<String> env = c.getEnv() == null ? List.of() : c.getEnv().stream().map(EnvVar::getName).toList();
            for (String a : Stream.concat(Objects.requireNonNullElse(c.getCommand(), List.<String>of()).stream(),
                    Objects.requireNonNullElse(c.getArgs(), List.<String>of()).stream()).toList()) {
                Matcher m = VAR_REF.matcher(a);
                while (m.find()) {
                    if (!env.contains(m.group(1))) {
                        p.add(cw + ": argument '" + a + "' refers to $(" + m.group(1) + "), which the container's env "
                                + "does not define (Kubernetes would pass it literally)");
                    }
                }
            }
        }
        long budgets = r.all(PodDisruptionBudget.class).stream()
                .filter(b -> selects(b.getSpec().getSelector(), podLabels(d))).count();
        if (budgets != 1) {
            p.add(what + ": " + budgets + " PodDisruptionBudgets select its pods; want exactly 1");
        }
        if (isolating(r, d).isEmpty()) {
            p.add(what + ": no NetworkPolicy with policyType Ingress selects its pods, so every source reaches them");
        }
    }

    private static void probe(Deployment d, String cw, String kind, Probe probe, boolean required, List<String> p) {
        if (probe == null) {
            if (required) {
                p.add(cw + ": no " + kind);
            }
            return;
        }
        long handlers = Stream.of(probe.getGrpc(), probe.getHttpGet(), probe.getTcpSocket(), probe.getExec())
                .filter(Objects::nonNull).count();
        if (handlers != 1) {
            p.add(cw + ": " + kind + " has " + handlers + " handlers; want exactly one of grpc, httpGet, tcpSocket, exec");
        }
        if (probe.getGrpc() != null && containerPort(d, new IntOrString(probe.getGrpc().getPort())) == null) {
            p.add(cw + ": " + kind + " probes gRPC port " + probe.getGrpc().getPort() + ", which no container declares");
        }
    }

    private static void resources(String cw, ResourceRequirements res, List<String> p) {
        Map<String, Quantity> req = res == null || res.getRequests() == null ? Map.of() : res.getRequests();
        Map<String, Quantity> lim = res == null || res.getLimits() == null ? Map.of() : res.getLimits();
        for (String k : List.of("cpu", "memory")) {
            if (!req.containsKey(k)) {
                p.add(cw + ": no resources.requests." + k);
            }
            if (!lim.containsKey(k)) {
                p.add(cw + ": no resources.limits." + k);
            }
            if (req.containsKey(k) && lim.containsKey(k)
                    && Quantity.getAmountInBytes(req.get(k)).compareTo(Quantity.getAmountInBytes(lim.get(k))) > 0) {
                p.add(cw + ": resources.requests." + k + " " + req.get(k) + " exceeds its limit " + lim.get(k));
            }
        }
        for (String k : req.keySet()) {
            if (k.contains("/") && (!lim.containsKey(k)
                    || Quantity.getAmountInBytes(req.get(k)).compareTo(Quantity.getAmountInBytes(lim.get(k))) != 0)) {
                p.add(cw + ": extended resource " + k + " must have equal request and limit");
            }
        }
    }

    private static void service(Rendered r, Service s, List<String> p) {
        String what = "Service " + name(s);
        List<Deployment> targets = deploymentsSelectedBy(r, s);
        if (targets.isEmpty()) {
            p.add(what + ": its selector " + s.getSpec().getSelector() + " selects the pods of no Deployment");
        }
        for (ServicePort sp : s.getSpec().getPorts()) {
            IntOrString target = sp.getTargetPort() != null ? sp.getTargetPort() : new IntOrString(sp.getPort());
            for (Deployment d : targets) {
                if (containerPort(d, target) == null) {
                    p.add(what + ": port " + sp.getPort() + " targets " + (target.getIntVal() != null ? target.getIntVal()
                            : "'" + target.getStrVal() + "'") + ", which Deployment " + name(d) + " does not declare");
                }
            }
        }
    }

    private static void autoscaler(Rendered r, HorizontalPodAutoscaler h, List<String> p) {
        String what = "HorizontalPodAutoscaler " + name(h);
        var ref = h.getSpec().getScaleTargetRef();
        var target = r.named(Deployment.class, ref.getName());
        if (!"Deployment".equals(ref.getKind()) || !"apps/v1".equals(ref.getApiVersion()) || target.isEmpty()) {
            p.add(what + ": scaleTargetRef " + ref.getApiVersion() + " " + ref.getKind() + " " + ref.getName()
                    + " is not a Deployment of the manifests");
        } else if (target.get().getSpec().getReplicas() != null) {
            p.add(what + ": its Deployment " + ref.getName() + " sets replicas, which every apply would reset under the HPA");
        }
        int min = h.getSpec().getMinReplicas() == null ? 1 : h.getSpec().getMinReplicas();
        if (min < 1 || h.getSpec().getMaxReplicas() < min) {
            p.add(what + ": replicas " + min + " to " + h.getSpec().getMaxReplicas() + " is not a range of at least one pod");
        }
        if (h.getSpec().getMetrics() == null || h.getSpec().getMetrics().isEmpty()) {
            p.add(what + ": no metrics (autoscaling/v2 would fall back to CPU utilisation)");
        }
    }
}
