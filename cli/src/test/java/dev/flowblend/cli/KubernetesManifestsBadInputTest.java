package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest checks fail where they should: each test copies deploy/kubernetes into a temporary
 * folder, breaks one rule in one file, renders an overlay of the copy with kubectl kustomize and
 * expects the problem, named. The replaced text must be in the file, so that a test whose target
 * moved fails instead of passing on an unchanged copy.
 */
class KubernetesManifestsBadInputTest {
    private static final String CPU = "overlays/cpu";
    private static final String GPU = "overlays/mixed-gpu";

    @TempDir
    Path tmp;

    private Path copy;

    /** The copy of deploy/kubernetes, made on first use. */
    private Path copy() throws IOException {
        if (copy == null) {
            copy = tmp.resolve("kubernetes");
            try (Stream<Path> s = Files.walk(KubernetesManifestsTest.KUBE)) {
                for (Path src : s.toList()) {
                    Path dst = copy.resolve(KubernetesManifestsTest.KUBE.relativize(src).toString());
                    if (Files.isDirectory(src)) {
                        Files.createDirectories(dst);
                    } else {
                        Files.copy(src, dst);
                    }
                }
            }
        }
        return copy;
    }

    /** Replaces {@code from} (which must occur) by {@code to} in {@code file} of the copy. */
    private KubernetesManifestsBadInputTest with(String file, String from, String to) throws IOException {
        Path f = copy().resolve(file);
        String text = Files.readString(f);
        assertTrue(text.contains(from), file + " no longer contains '" + from + "': update this test");
        Files.writeString(f, text.replace(from, to));
        return this;
    }

    /** Removes from {@code file} of the copy the text from {@code start} up to (not including) {@code end} or the file's end. */
    private KubernetesManifestsBadInputTest without(String file, String start, String end) throws IOException {
        Path f = copy().resolve(file);
        String text = Files.readString(f);
        int i = text.indexOf(start);
        int j = end == null ? text.length() : text.indexOf(end, i + 1);
        assertTrue(i >= 0 && j > i, file + " no longer holds '" + start + "' ... '" + end + "': update this test");
        Files.writeString(f, text.substring(0, i) + text.substring(j));
        return this;
    }

    /** Renders {@code overlay} of the copy and expects a problem that contains every fragment. */
    private void expect(String overlay, String... fragments) throws Exception {
        List<String> kubectl = KubernetesManifestsTest.kubectl();
        List<String> problems = KubernetesManifestsTest.problems(KubeRender.render(kubectl, copy().resolve(overlay)),
                Files.createDirectories(tmp.resolve("scratch")));
        if (problems.stream().noneMatch(p -> Arrays.stream(fragments).allMatch(p::contains))) {
            fail("no problem mentions " + Arrays.toString(fragments) + "; problems: " + problems);
        }
    }

    @Test
    void unchangedCopy_hasNoProblems() throws Exception {
        for (String overlay : KubernetesManifestsTest.WORKLOADS) {
            assertEquals(List.of(), KubernetesManifestsTest.problems(
                    KubeRender.render(KubernetesManifestsTest.kubectl(), copy().resolve(overlay)),
                    Files.createDirectories(tmp.resolve("scratch-" + overlay.replace('/', '-')))), overlay);
        }
    }

    @Test
    void misspelledField_isAnUnknownFieldNamedByPath() throws Exception {
        with("base/large-worker.yaml", "          readinessProbe:", "          readinesProbe:")
                .expect(CPU, "Deployment flowblend-large-worker", "unknown field 'readinesProbe'",
                        "spec.template.spec.containers[0].readinesProbe");
    }

    @Test
    void misspelledNestedField_inAnOverlayPatch_isAnUnknownField() throws Exception {
        with(GPU + "/small-worker.yaml", "operator: Exists, effect: NoSchedule", "operator: Exists, efect: NoSchedule")
                .expect(GPU, "unknown field 'efect'", "spec.template.spec.tolerations[0].efect");
    }

    @Test
    void wrongScalarType_isRejected() throws Exception {
        with("base/orchestrator.yaml", "terminationGracePeriodSeconds: 90", "terminationGracePeriodSeconds: ninety")
                .expect(CPU, "Deployment flowblend-orchestrator", "terminationGracePeriodSeconds");
    }

    @Test
    void apiVersionNotServed_isAnUnknownKind() throws Exception {
        with("base/orchestrator.yaml", "apiVersion: policy/v1\n", "apiVersion: policy/v1beta1\n")
                .expect(CPU, "'policy/v1beta1/PodDisruptionBudget' is not one the manifests may use");
    }

    @Test
    void deploymentWithoutLivenessProbe_fails() throws Exception {
        without("base/orchestrator.yaml", "          livenessProbe:\n", "          lifecycle:\n")
                .expect(CPU, "Deployment flowblend-orchestrator container orchestrator: no livenessProbe");
    }

    @Test
    void readinessOnTheWrongHealthService_fails() throws Exception {
        with("base/orchestrator.yaml", "grpc: {port: 8100, service: flowblend.v1.GenerationService}",
                "grpc: {port: 8100, service: \"\"}")
                .expect(CPU, "readinessProbe must be gRPC health on port 8100 service 'flowblend.v1.GenerationService'");
    }

    @Test
    void deploymentWithoutLimits_fails() throws Exception {
        with("base/small-worker.yaml", "            limits: {cpu: \"2\", memory: 1Gi}\n", "")
                .expect(CPU, "Deployment flowblend-small-worker container worker: no resources.limits.memory");
    }

    @Test
    void poolServiceNotHeadless_fails() throws Exception {
        with("base/small-worker.yaml", "  clusterIP: None\n", "")
                .expect(CPU, "pool 'small' Service flowblend-small-workers is not headless");
    }

    @Test
    void poolWithoutItsHeadlessService_fails() throws Exception {
        with("base/small-worker.yaml", "  name: flowblend-small-workers\n", "  name: flowblend-smol-workers\n")
                .expect(CPU, "pool 'small' dns 'flowblend-small-workers:8201' names Service 'flowblend-small-workers', "
                        + "which the manifests lack");
    }

    @Test
    void poolDnsNamingNoService_isAnUnknownPoolService() throws Exception {
        with("base/cluster.json", "flowblend-small-workers:8201", "flowblend-medium-workers:8201")
                .expect(CPU, "names Service 'flowblend-medium-workers', which the manifests lack");
    }

    @Test
    void poolDnsOnAnotherPort_fails() throws Exception {
        with("base/cluster.json", "flowblend-large-workers:8101", "flowblend-large-workers:8102")
                .expect(CPU, "Service flowblend-large-workers has no port 8102");
    }

    @Test
    void poolDnsInAnotherNamespace_fails() throws Exception {
        with("base/cluster.json", "flowblend-large-workers:8101", "flowblend-large-workers.default.svc.cluster.local:8101")
                .expect(CPU, "is not a Service of namespace 'flowblend'");
    }

    @Test
    void deploymentLabelledForAPoolTheConfigLacks_fails() throws Exception {
        with("base/small-worker.yaml", "flowblend.dev/pool: small", "flowblend.dev/pool: medium")
                .expect(CPU, "Deployment flowblend-small-worker is labelled for pool 'medium'",
                        "which the orchestrator config lacks (pools [large, small])");
    }

    @Test
    void workerEntryTheConfigLacks_fails() throws Exception {
        with("base/small-worker.yaml", "\"--name\", \"small\"", "\"--name\", \"medium\"")
                .expect(CPU, "the process would reject its config", "no worker named 'medium'");
    }

    @Test
    void optionTheLauncherLacks_fails() throws Exception {
        with("base/small-worker.yaml", "\"--instance\"", "\"--instanse\"")
                .expect(CPU, "the launcher rejects args", "--instanse");
    }

    @Test
    void configValueTheProcessRejects_fails() throws Exception {
        with("base/cluster.json", "\"max_step_attempts\": 3", "\"max_step_attempts\": 0")
                .expect(CPU, "the process would reject its config", "max_step_attempts");
    }

    @Test
    void configKeyTheProcessDoesNotKnow_fails() throws Exception {
        with(GPU + "/cluster.json", "\"drain_seconds\": 300", "\"drain_second\": 300")
                .expect(GPU, "the process would reject its config", "drain_second");
    }

    @Test
    void planNamingAPoolTheConfigLacks_fails() throws Exception {
        with("base/calibrated-plan.json", "\"pool\" : \"small\"", "\"pool\" : \"medium\"")
                .expect(CPU, "plan 'calibrated' names pool 'medium', which the orchestrator config lacks");
    }

    @Test
    void planFileOutsideTheConfigMap_fails() throws Exception {
        with("base/cluster.json", "/etc/flowblend/calibrated-plan.json", "/etc/flowblend/plans/calibrated.json")
                .expect(CPU, "plans.calibrated file '/etc/flowblend/plans/calibrated.json' is no key of a ConfigMap");
    }

    @Test
    void orchestratorOnLoopback_fails() throws Exception {
        with("base/cluster.json", "\"orchestrator\": {\n    \"host\": \"0.0.0.0\"", "\"orchestrator\": {\n    \"host\": \"127.0.0.1\"")
                .expect(CPU, "container orchestrator: host is 127.0.0.1");
    }

    @Test
    void gracePeriodShorterThanTheDrain_fails() throws Exception {
        with(GPU + "/orchestrator.yaml", "terminationGracePeriodSeconds: 330", "terminationGracePeriodSeconds: 120")
                .expect(GPU, "terminationGracePeriodSeconds 120 < drain_seconds 300");
    }

    @Test
    void cudaWorkerWithoutAGpu_fails() throws Exception {
        with(GPU + "/small-worker.yaml", ", nvidia.com/gpu: 1}", "}")
                .expect(GPU, "container worker: execution_provider cuda but no nvidia.com/gpu limit");
    }

    @Test
    void workersOpenToEverySource_fails() throws Exception {
        String rule = """
                    - from:
                        - podSelector:
                            matchLabels:
                              app.kubernetes.io/name: flowblend
                              app.kubernetes.io/component: orchestrator
                      ports:
                        - {protocol: TCP, port: 8101}
                """;
        with("base/network-policies.yaml", rule, "    - ports:\n        - {protocol: TCP, port: 8101}\n")
                .expect(CPU, "pool 'large'", "admits every source to worker port 8101");
    }

    @Test
    void workersReachableFromAnotherNamespace_fails() throws Exception {
        with("base/network-policies.yaml", """
                        - podSelector:
                            matchLabels:
                              app.kubernetes.io/name: flowblend
                              app.kubernetes.io/component: orchestrator
                      ports:
                        - {protocol: TCP, port: 8201}
                """, """
                        - namespaceSelector: {}
                      ports:
                        - {protocol: TCP, port: 8201}
                """).expect(CPU, "pool 'small'", "admits more than the orchestrator to worker port 8201");
    }

    @Test
    void poolWithoutAutoscaler_fails() throws Exception {
        without("base/small-worker.yaml", "---\n# Scales the pool", null)
                .expect(CPU, "0 HorizontalPodAutoscalers scale Deployment flowblend-small-worker");
    }

    @Test
    void metricsAnnotationOnAnotherPort_fails() throws Exception {
        with("base/small-worker.yaml", "prometheus.io/port: \"9201\"", "prometheus.io/port: \"9202\"")
                .expect(CPU, "prometheus.io/port=9202; want true and 9201");
    }

    @Test
    void podNameVariableUndefined_fails() throws Exception {
        with("base/large-worker.yaml", "            - name: POD_NAME\n              valueFrom:\n"
                + "                fieldRef: {fieldPath: metadata.name}\n", "")
                .expect(CPU, "refers to $(POD_NAME), which the container's env does not define");
    }

    @Test
    void deploymentWithoutDisruptionBudget_fails() throws Exception {
        without("base/large-worker.yaml", "---\napiVersion: policy/v1\n", "---\n# Scales the pool")
                .expect(CPU, "Deployment flowblend-large-worker: 0 PodDisruptionBudgets select its pods");
    }

    @Test
    void workerCertificateWithoutThePoolsDnsName_fails() throws Exception {
        with("components/security/certificates.yaml", "    - flowblend-small-workers\n", "    - flowblend-small\n")
                .expect(GPU, "Deployment flowblend-small-worker container worker: its Certificate flowblend-small-worker",
                        "not the pool's DNS name 'flowblend-small-workers'");
    }

    @Test
    void orchestratorCertificateWithoutClientAuth_fails() throws Exception {
        with("components/security/certificates.yaml", "usages: [server auth, client auth, digital signature",
                "usages: [server auth, digital signature")
                .expect(GPU, "orchestrator.security.worker_tls presents Certificate flowblend-orchestrator",
                        "lack 'client auth'");
    }

    @Test
    void tlsFilesNotMounted_fails() throws Exception {
        with("components/security/small-worker.yaml", "mountPath: /etc/flowblend/tls,", "mountPath: /etc/tls,")
                .expect(GPU, "worker.security.tls.cert_file /etc/flowblend/tls/tls.crt is on volume 'config', not a Secret");
    }

    @Test
    void probeOnTheTlsPort_fails() throws Exception {
        with("components/security/large-worker.yaml", "readinessProbe:\n            grpc: {port: 8111",
                "readinessProbe:\n            grpc: {port: 8101")
                .expect(GPU, "readinessProbe must be gRPC health on port 8111");
    }
}
