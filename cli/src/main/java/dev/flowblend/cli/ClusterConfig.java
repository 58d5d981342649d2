package dev.flowblend.cli;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.runtime.Json;
import dev.flowblend.worker.WorkerConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * A whole deployment in one file: the orchestrator and every worker, and the JVM options every
 * one of those processes runs with. deploy/demo.json is one; the same format describes a cluster
 * (each process reads its own section; a container passes {@code jvm_options} to its JVM).
 * Immutable.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
record ClusterConfig(String description, List<String> jvmOptions, OrchestratorConfig orchestrator,
                     List<WorkerConfig> workers) {

    ClusterConfig {
        if (orchestrator == null) {
            throw new IllegalArgumentException("cluster config needs an 'orchestrator' section");
        }
        jvmOptions = jvmOptions == null ? List.of() : List.copyOf(jvmOptions);
        for (String o : jvmOptions) {
            if (o == null || !o.startsWith("-") || o.isBlank() || o.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("jvm_options entry '" + o
                        + "' is not one JVM option (must start with '-' and hold no whitespace)");
            }
        }
        workers = workers == null ? List.of() : List.copyOf(workers);
        if (workers.stream().map(WorkerConfig::name).distinct().count() != workers.size()) {
            throw new IllegalArgumentException("worker names must be unique: "
                    + workers.stream().map(WorkerConfig::name).toList());
        }
    }

    /** JVM options written as one whitespace-separated string (a flag's or an environment variable's value). */
    static List<String> splitOptions(String options) {
        return options == null || options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
    }

    /** The same deployment, its processes started with {@code more} JVM options after the configured ones. */
    ClusterConfig withMoreJvmOptions(List<String> more) {
        List<String> all = new java.util.ArrayList<>(jvmOptions);
        all.addAll(more);
        try {
            return new ClusterConfig(description, all, orchestrator, workers);
        } catch (IllegalArgumentException e) {  // name what the caller passed, not the file's key
            throw new IllegalArgumentException("extra JVM options " + more + ": " + e.getMessage(), e);
        }
    }

    static ClusterConfig load(Path file) {
        return Json.read(file, ClusterConfig.class);
    }

    WorkerConfig worker(String name) {
        return workers.stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no worker named '" + name + "' in the cluster config; workers are "
                        + workers.stream().map(WorkerConfig::name).toList()));
    }
}
