package dev.flowblend.cli;

import dev.flowblend.cli.KubeProcesses.Proc;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.security.TlsFiles;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the security settings of the rendered configs need from the manifests: every certificate,
 * key, CA and token file on a mounted Secret (a cert-manager Certificate's Secret holds
 * tls.crt / tls.key / ca.crt), worker certificates naming their pool's DNS name, the orchestrator's
 * certificate allowed as a client, all from the CA the other side trusts, and the probes on the
 * plaintext health port wherever the main port requires TLS client certificates.
 */
final class KubeSecurityChecks {
    /** The Secret an operator creates from ./flowblend token's file (docs/security.md); no manifest makes it. */
    static final String TOKENS_SECRET = "flowblend-client-tokens";
    private static final List<String> CERT_KEYS = List.of("tls.crt", "tls.key", "ca.crt");

    private KubeSecurityChecks() {
    }

    static List<String> check(KubeRender.Rendered r, List<Proc> procs) {
        List<String> p = new ArrayList<>();
        for (Proc x : procs) {
            if (x.orchestrator() != null) {
                OrchestratorConfig.Security s = x.orchestrator().security();
                tls(r, x, "orchestrator.security.tls", s.tls(), true, p);
                tls(r, x, "orchestrator.security.worker_tls", s.workerTls(), true, p);
                if (s.auth() != null) {
                    secretFile(r, x, "orchestrator.security.auth.tokens_file", s.auth().tokensFile(), p);
                }
                if (s.workerTls() != null) {
                    workerNames(r, x, procs, p);
                }
            } else if (x.worker() != null) {
                tls(r, x, "worker.security.tls", x.worker().security().tls(), false, p);
            }
        }
        return p;
    }

    private static void tls(KubeRender.Rendered r, Proc x, String path, TlsFiles t, boolean client, List<String> p) {
        if (t == null) {
            return;
        }
        Optional<String> cert = secretFile(r, x, path + ".cert_file", t.certFile(), p);
        secretFile(r, x, path + ".key_file", t.keyFile(), p);
        secretFile(r, x, path + ".ca_file", t.caFile(), p);
        if (client && cert.isPresent()) {
            certificateOf(r, cert.get()).ifPresent(c -> {
                List<String> usages = Objects.requireNonNullElse(c.getSpec().usages(), List.of());
                if (path.endsWith("worker_tls") && !usages.contains("client auth")) {
                    p.add(x.what() + ": " + path + " presents Certificate " + KubeChecks.name(c)
                            + ", whose usages " + usages + " lack 'client auth': workers would refuse it");
                }
            });
        }
    }

    /**
     * The Secret that holds {@code file} in the container, if it lies on a Secret volume; a problem
     * otherwise (or when a Certificate's Secret cannot hold that file name).
     */
    private static Optional<String> secretFile(KubeRender.Rendered r, Proc x, String key, String file, List<String> p) {
        List<Volume> volumes = Objects.requireNonNullElse(KubeChecks.pod(x.deployment()).getVolumes(), List.of());
        for (VolumeMount m : Objects.requireNonNullElse(x.container().getVolumeMounts(), List.<VolumeMount>of())) {
            String prefix = m.getMountPath().endsWith("/") ? m.getMountPath() : m.getMountPath() + "/";
            if (file == null || !file.startsWith(prefix)) {
                continue;
            }
            Optional<Volume> v = volumes.stream().filter(o -> o.getName().equals(m.getName())).findFirst();
            if (v.isEmpty() || v.get().getSecret() == null) {
                p.add(x.what() + ": " + key + " " + file + " is on volume '" + m.getName() + "', not a Secret");
                return Optional.empty();
            }
            String secret = v.get().getSecret().getSecretName();
            String name = file.substring(prefix.length());
            if (certificateOf(r, secret).isPresent()) {
                if (!CERT_KEYS.contains(name)) {
                    p.add(x.what() + ": " + key + " " + file + " names '" + name + "', which the Certificate's Secret '"
                            + secret + "' does not hold (it holds " + CERT_KEYS + ")");
                }
            } else if (!secret.equals(TOKENS_SECRET)) {
                p.add(x.what() + ": " + key + " " + file + " is on Secret '" + secret + "', which no Certificate of the "
                        + "manifests makes (and is not the operator's " + TOKENS_SECRET + ")");
            }
            return Optional.of(secret);
        }
        p.add(x.what() + ": " + key + " " + file + " is on no mounted volume");
        return Optional.empty();
    }

    private static Optional<CertManagerModel.Certificate> certificateOf(KubeRender.Rendered r, String secret) {
        return r.all(CertManagerModel.Certificate.class).stream()
                .filter(c -> secret.equals(c.getSpec().secretName())).findFirst();
    }

    /** Each pool's workers present a certificate for the pool's DNS name, which the orchestrator checks. */
    private static void workerNames(KubeRender.Rendered r, Proc o, List<Proc> procs, List<String> p) {
        for (OrchestratorConfig.PoolConfig pool : o.orchestrator().pools()) {
            if (pool.dns() == null) {
                continue;
            }
            String host = pool.dns().substring(0, pool.dns().lastIndexOf(':'));
            List<Proc> workers = procs.stream().filter(w -> w.worker() != null
                    && pool.name().equals(KubeChecks.podLabels(w.deployment()).get(KubeConfigChecks.POOL_LABEL))).toList();
            for (Proc w : workers) {
                TlsFiles t = w.worker().security().tls();
                if (t == null) {
                    p.add(w.what() + ": the orchestrator dials pool '" + pool.name() + "' with TLS, but the worker "
                            + "serves plaintext");
                    continue;
                }
                Optional<String> secret = mountedSecret(w, t.certFile());
                secret.flatMap(s -> certificateOf(r, s)).ifPresent(c -> {
                    if (!Objects.requireNonNullElse(c.getSpec().dnsNames(), List.<String>of()).contains(host)) {
                        p.add(w.what() + ": its Certificate " + KubeChecks.name(c) + " names " + c.getSpec().dnsNames()
                                + ", not the pool's DNS name '" + host + "' that the orchestrator checks");
                    }
                });
            }
        }
    }

    private static Optional<String> mountedSecret(Proc x, String file) {
        List<Volume> volumes = Objects.requireNonNullElse(KubeChecks.pod(x.deployment()).getVolumes(), List.of());
        for (VolumeMount m : Objects.requireNonNullElse(x.container().getVolumeMounts(), List.<VolumeMount>of())) {
            if (file != null && file.startsWith(m.getMountPath().endsWith("/") ? m.getMountPath() : m.getMountPath() + "/")) {
                return volumes.stream().filter(v -> v.getName().equals(m.getName()) && v.getSecret() != null)
                        .map(v -> v.getSecret().getSecretName()).findFirst();
            }
        }
        return Optional.empty();
    }
}
