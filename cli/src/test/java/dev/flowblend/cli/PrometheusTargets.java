package dev.flowblend.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Prometheus scrape job with {@code kubernetes_sd_configs: [{role: pod}]} makes of a pod
 * of a rendered Deployment: the discovery labels Prometheus documents for the pod role (one
 * target per declared container port), run through the job's relabel_configs (actions replace,
 * keep, drop; Prometheus' defaults for separator, regex and replacement). A test checks with it
 * that the scrape job keeps exactly each pod's metrics port, labelled the way the Prometheus
 * Adapter's rule needs. Only what flowblend's job uses is modelled.
 */
final class PrometheusTargets {
    static final String POD_IP = "10.1.2.3";

    private PrometheusTargets() {
    }

    /** One scraped target: its URL and its labels after relabeling (the "__" ones dropped). */
    record Target(String url, Map<String, String> labels) {
    }

    static List<Target> targets(JsonNode job, Deployment d, String podName) {
        List<Target> out = new ArrayList<>();
        for (Map<String, String> discovered : discover(d, podName)) {
            Map<String, String> l = relabel(job.path("relabel_configs"), discovered);
            if (l != null) {
                Map<String, String> kept = new LinkedHashMap<>();
                l.forEach((k, v) -> {
                    if (!k.startsWith("__") && !v.isEmpty()) {
                        kept.put(k, v);
                    }
                });
                out.add(new Target(l.get("__scheme__") + "://" + l.get("__address__") + l.get("__metrics_path__"), kept));
            }
        }
        return out;
    }

    private static List<Map<String, String>> discover(Deployment d, String podName) {
        var meta = d.getSpec().getTemplate().getMetadata();
        Map<String, String> pod = new LinkedHashMap<>();
        pod.put("__scheme__", "http");
        pod.put("__metrics_path__", "/metrics");
        pod.put("__meta_kubernetes_namespace", d.getMetadata().getNamespace());
        pod.put("__meta_kubernetes_pod_name", podName);
        pod.put("__meta_kubernetes_pod_ip", POD_IP);
        pod.put("__meta_kubernetes_pod_phase", "Running");
        Objects.requireNonNullElse(meta.getLabels(), Map.<String, String>of()).forEach((k, v) ->
                pod.put("__meta_kubernetes_pod_label_" + sanitize(k), v));
        Objects.requireNonNullElse(meta.getAnnotations(), Map.<String, String>of()).forEach((k, v) ->
                pod.put("__meta_kubernetes_pod_annotation_" + sanitize(k), v));
        List<Map<String, String>> targets = new ArrayList<>();
        for (Container c : KubeChecks.pod(d).getContainers()) {
            for (ContainerPort cp : Objects.requireNonNullElse(c.getPorts(), List.<ContainerPort>of())) {
                Map<String, String> t = new LinkedHashMap<>(pod);
                t.put("__address__", POD_IP + ":" + cp.getContainerPort());
                t.put("__meta_kubernetes_pod_container_name", c.getName());
                t.put("__meta_kubernetes_pod_container_port_name", Objects.requireNonNullElse(cp.getName(), ""));
                t.put("__meta_kubernetes_pod_container_port_number", String.valueOf(cp.getContainerPort()));
                t.put("__meta_kubernetes_pod_container_port_protocol", Objects.requireNonNullElse(cp.getProtocol(), "TCP"));
                targets.add(t);
            }
        }
        return targets;
    }

    /** The labels after the relabel rules, or null when a keep or drop rule dropped the target. */
    private static Map<String, String> relabel(JsonNode rules, Map<String, String> labels) {
        Map<String, String> l = new LinkedHashMap<>(labels);
        for (JsonNode rule : rules) {
            List<String> values = new ArrayList<>();
            rule.path("source_labels").forEach(s -> values.add(l.getOrDefault(s.asText(), "")));
            String joined = String.join(rule.path("separator").asText(";"), values);
            Pattern regex = Pattern.compile("^(?:" + rule.path("regex").asText("(.*)") + ")$");
            Matcher m = regex.matcher(joined);
            String action = rule.path("action").asText("replace");
            switch (action) {
                case "keep" -> {
                    if (!m.matches()) {
                        return null;
                    }
                }
                case "drop" -> {
                    if (m.matches()) {
                        return null;
                    }
                }
                case "replace" -> {
                    if (m.matches()) {
                        String v = m.replaceFirst(rule.path("replacement").asText("$1"));
                        String target = rule.path("target_label").asText();
                        if (v.isEmpty()) {
                            l.remove(target);
                        } else {
                            l.put(target, v);
                        }
                    }
                }
                default -> throw new IllegalArgumentException("relabel action '" + action + "' is not modelled here");
            }
        }
        return l;
    }

    private static String sanitize(String name) {
        return name.replaceAll("[^a-zA-Z0-9_]", "_");
    }
}
