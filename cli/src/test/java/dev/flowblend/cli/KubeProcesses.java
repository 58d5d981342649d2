package dev.flowblend.cli;

import dev.flowblend.cli.KubeRender.Rendered;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.worker.WorkerConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * What each flowblend container of a rendered manifest would run: its arguments parsed by the
 * launcher's own picocli commands, its cluster config read by {@link ClusterConfig} from the
 * ConfigMap it mounts. The container's ConfigMap mounts are laid out under a scratch folder so
 * that the files the process opens (the cluster config, plan files) are the ConfigMap's keys;
 * paths on other volumes (the model family) are only checked to be mounted, since their
 * content is not part of the manifests.
 */
final class KubeProcesses {
    private static final Pattern VAR_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    private KubeProcesses() {
    }

    /**
     * One flowblend container: exactly one of worker/orchestrator is set once its arguments and
     * config were accepted; {@code clusterFile} is the ConfigMap and key of its --cluster file.
     */
    record Proc(Deployment deployment, Container container, String command, List<String> args,
                Map<String, Path> configMounts, String clusterFile, ClusterConfig cluster,
                WorkerConfig worker, OrchestratorConfig orchestrator) {
        String what() {
            return "Deployment " + KubeChecks.name(deployment) + " container " + container.getName();
        }

        /** The local copy of a file at {@code containerPath}, if a ConfigMap mount holds it. */
        Optional<Path> file(String containerPath) {
            for (var m : configMounts.entrySet()) {
                String prefix = m.getKey().endsWith("/") ? m.getKey() : m.getKey() + "/";
                if (containerPath.startsWith(prefix)) {
                    Path local = m.getValue().resolve(containerPath.substring(prefix.length()));
                    return Files.isRegularFile(local) ? Optional.of(local) : Optional.empty();
                }
            }
            return Optional.empty();
        }

        /** Whether {@code containerPath} lies on a mounted volume that is not a ConfigMap (a PVC, hostPath, ...). */
        boolean onDataVolume(String containerPath) {
            List<Volume> volumes = Objects.requireNonNullElse(KubeChecks.pod(deployment).getVolumes(), List.of());
            for (VolumeMount m : Objects.requireNonNullElse(container.getVolumeMounts(), List.<VolumeMount>of())) {
                String prefix = m.getMountPath().endsWith("/") ? m.getMountPath() : m.getMountPath() + "/";
                boolean data = volumes.stream().anyMatch(v -> v.getName().equals(m.getName()) && v.getConfigMap() == null
                        && v.getEmptyDir() == null);
                if (data && (containerPath.equals(m.getMountPath()) || containerPath.startsWith(prefix))) {
                    return true;
                }
            }
            return false;
        }

        String argument(String option) {
            int i = args.indexOf(option);
            return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : null;
        }
    }

    /** Every flowblend container of the manifest; problems for those whose arguments or config the process would reject. */
    static List<Proc> of(Rendered r, Path scratch, List<String> problems) throws IOException {
        List<Proc> procs = new ArrayList<>();
        for (Deployment d : r.all(Deployment.class)) {
            for (Container c : KubeChecks.pod(d).getContainers()) {
                List<String> args = Objects.requireNonNullElse(c.getArgs(), List.of());
                String what = "Deployment " + KubeChecks.name(d) + " container " + c.getName();
                if (c.getCommand() != null && !c.getCommand().isEmpty()) {
                    problems.add(what + ": sets command " + c.getCommand() + "; the image's entrypoint is the flowblend launcher");
                }
                if (args.isEmpty() || !List.of("worker", "orchestrator").contains(args.get(0))) {
                    problems.add(what + ": args " + args + " run neither 'worker' nor 'orchestrator'");
                    continue;
                }
                Path root = Files.createDirectories(scratch.resolve(KubeChecks.name(d) + "-" + c.getName()));
                Map<String, Path> mounts = mountConfigMaps(r, d, c, root);
                Proc p = load(d, c, args.get(0), substitute(d, c, args), mounts, problems);
                if (p != null) {
                    procs.add(p);
                }
            }
        }
        return procs;
    }

    private static Proc load(Deployment d, Container c, String command, List<String> args, Map<String, Path> mounts,
                             List<String> problems) {
        Proc p0 = new Proc(d, c, command, args, mounts, null, null, null, null);
        String clusterPath = p0.argument("--cluster");
        if (clusterPath == null) {
            problems.add(p0.what() + ": no --cluster: every process reads the one cluster config of the ConfigMap");
            return null;
        }
        Optional<Path> local = p0.file(clusterPath);
        if (local.isEmpty()) {
            problems.add(p0.what() + ": --cluster " + clusterPath + " is no key of a ConfigMap the container mounts");
            return null;
        }
        List<String> localArgs = args.stream().map(a -> a.equals(clusterPath) ? local.get().toString() : a).toList();
        try {
            CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(localArgs.toArray(String[]::new));
            Object cmd = parsed.subcommand().commandSpec().userObject();
            ClusterConfig cluster = ClusterConfig.load(local.get());
            String source = mounts.entrySet().stream().filter(m -> local.get().startsWith(m.getValue()))
                    .map(m -> m.getValue().getFileName() + "/" + local.get().getFileName()).findFirst().orElseThrow();
            if (cmd instanceof WorkerCommand w) {
                return new Proc(d, c, command, args, mounts, source, cluster, w.resolve(), null);
            }
            OrchestratorCommand o = (OrchestratorCommand) cmd;
            if (o.cluster == null) {
                problems.add(p0.what() + ": the orchestrator must read the cluster config with --cluster");
                return null;
            }
            // what OrchestratorCommand.call() does before it loads the family and starts
            OrchestratorConfig oc = cluster.orchestrator();
            oc = o.host == null ? oc : oc.withHost(o.host);
            oc = o.port == null ? oc : oc.withPort(o.port);
            oc = o.metricsPort == null ? oc : oc.withMetricsPort(o.metricsPort);
            oc = o.plan == null ? oc : oc.withDefaultPlan(o.plan);
            return new Proc(d, c, command, args, mounts, source, cluster, null, oc);
        } catch (CommandLine.ParameterException e) {
            problems.add(p0.what() + ": the launcher rejects args " + args + ": " + e.getMessage());
        } catch (RuntimeException e) {
            problems.add(p0.what() + ": the process would reject its config " + clusterPath + ": "
                    + rootMessage(e).replace(local.get().toString(), clusterPath));
        }
        return null;
    }

    /** Writes each ConfigMap the container mounts (whole, as Kubernetes lays it out) under root; mount path → folder. */
    private static Map<String, Path> mountConfigMaps(Rendered r, Deployment d, Container c, Path root) throws IOException {
        Map<String, Path> mounts = new java.util.LinkedHashMap<>();
        List<Volume> volumes = Objects.requireNonNullElse(KubeChecks.pod(d).getVolumes(), List.of());
        for (VolumeMount m : Objects.requireNonNullElse(c.getVolumeMounts(), List.<VolumeMount>of())) {
            Optional<ConfigMap> cm = volumes.stream().filter(v -> v.getName().equals(m.getName()) && v.getConfigMap() != null)
                    .findFirst().flatMap(v -> r.named(ConfigMap.class, v.getConfigMap().getName()));
            if (cm.isEmpty() || m.getSubPath() != null) {
                continue;
            }
            var source = volumes.stream().filter(v -> v.getName().equals(m.getName())).findFirst().orElseThrow().getConfigMap();
            Path dir = Files.createDirectories(root.resolve(KubeChecks.name(cm.get())));
            Map<String, String> data = Objects.requireNonNullElse(cm.get().getData(), Map.of());
            if (source.getItems() == null || source.getItems().isEmpty()) {
                for (var e : data.entrySet()) {
                    Files.writeString(dir.resolve(e.getKey()), e.getValue());
                }
            } else {
                for (var item : source.getItems()) {
                    if (data.containsKey(item.getKey())) {
                        Path f = dir.resolve(item.getPath());
                        Files.createDirectories(f.getParent());
                        Files.writeString(f, data.get(item.getKey()));
                    }
                }
            }
            mounts.put(m.getMountPath(), dir);
        }
        return mounts;
    }

    /**
     * The arguments as Kubernetes expands them: $(VAR) of an env var with a value, or with the
     * pod's name (fieldRef metadata.name; a sample name of the Deployment's shape stands in).
     * References to undefined variables are left as Kubernetes leaves them (KubeChecks reports them).
     */
    private static List<String> substitute(Deployment d, Container c, List<String> args) {
        Map<String, String> values = new java.util.HashMap<>();
        for (EnvVar e : Objects.requireNonNullElse(c.getEnv(), List.<EnvVar>of())) {
            if (e.getValue() != null) {
                values.put(e.getName(), e.getValue());
            } else if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null
                    && "metadata.name".equals(e.getValueFrom().getFieldRef().getFieldPath())) {
                values.put(e.getName(), KubeChecks.name(d) + "-5d8c7b9f4-x2x7q");
            }
        }
        return args.stream().map(a -> {
            Matcher m = VAR_REF.matcher(a);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(b, Matcher.quoteReplacement(values.getOrDefault(m.group(1), m.group())));
            }
            return m.appendTail(b).toString();
        }).toList();
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String root = (t.getMessage() == null ? t.toString() : t.getMessage()).lines().findFirst().orElse("");
        String top = e.getMessage() == null ? e.toString() : e.getMessage();
        return top.contains(root) ? top : top + " (" + root + ")";
    }
}
