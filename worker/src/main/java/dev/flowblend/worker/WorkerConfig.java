package dev.flowblend.worker;

import static dev.flowblend.runtime.Json.or;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.security.TlsFiles;
import dev.flowblend.telemetry.MetricsPort;
import java.util.List;

/**
 * Everything a worker process needs: identity, port, which models of the family it hosts, and
 * its limits. Large and small workers are this one record with different values (see
 * large-worker/ and small-worker/ for each role's defaults, deploy/ for a whole cluster).
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record WorkerConfig(
        String name,
        String role,
        String host,
        int port,
        String modelsDir,
        List<String> models,
        RuntimeOptions runtime,
        Batching batching,
        ContextCache contextCache,
        int maxMessageBytes,
        int drainSeconds,
        int maxStreamInflight,
        Integer metricsPort,
        Boolean reflection,
        Security security,
        Boolean applyGuidance) {

    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 << 20;
    /** Per ModelStreamInfer stream: requests taken and not yet answered (each answer may be MBs). */
    public static final int DEFAULT_MAX_STREAM_INFLIGHT = 64;

    public WorkerConfig {
        if (name == null) {
            throw new IllegalArgumentException("worker has no 'name' (1-64 of [A-Za-z0-9._:-])");
        }
        if (!name.matches("[A-Za-z0-9._:-]{1,64}")) {
            throw new IllegalArgumentException("worker name '" + name + "' must be 1-64 of [A-Za-z0-9._:-]");
        }
        role = role == null ? "worker" : role;
        host = host == null ? "127.0.0.1" : host;
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("worker port is " + port + "; must be 0 (any free port) to 65535");
        }
        MetricsPort.validate("worker '" + name + "'", metricsPort, port);
        // off unless asked for: reflection tells anyone who reaches a worker every method it serves
        reflection = reflection != null && reflection;
        if (models == null || models.isEmpty()) {
            throw new IllegalArgumentException("worker '" + name + "' hosts no models; set 'models'");
        }
        models = List.copyOf(models);
        runtime = runtime == null ? RuntimeOptions.DEFAULT : runtime;
        batching = batching == null ? Batching.DEFAULT : batching;
        contextCache = contextCache == null ? ContextCache.DEFAULT : contextCache;
        maxMessageBytes = maxMessageBytes == 0 ? DEFAULT_MAX_MESSAGE_BYTES : maxMessageBytes;
        if (maxMessageBytes < (1 << 20) || maxMessageBytes > (1 << 30)) {
            throw new IllegalArgumentException("max_message_bytes is " + maxMessageBytes + "; must be 1 MiB to 1 GiB");
        }
        drainSeconds = drainSeconds == 0 ? 30 : drainSeconds;
        if (drainSeconds < 0 || drainSeconds > 3600) {
            throw new IllegalArgumentException("drain_seconds is " + drainSeconds + "; must be 1 to 3600");
        }
        if (security == null) {
            throw new IllegalArgumentException("worker '" + name + "': security is missing; configure 'tls' (mutual"
                    + " TLS: only orchestrators with a certificate from its ca_file may call), or set"
                    + " \"security\": {\"plaintext\": true}");
        }
        maxStreamInflight = maxStreamInflight == 0 ? DEFAULT_MAX_STREAM_INFLIGHT : maxStreamInflight;
        if (maxStreamInflight < 1 || maxStreamInflight > 65536) {
            throw new IllegalArgumentException("max_stream_inflight is " + maxStreamInflight + "; must be 1 to 65536");
        }
        applyGuidance = applyGuidance == null || applyGuidance;
    }

    /** With {@code apply_guidance} at its default (true). */
    public WorkerConfig(String name, String role, String host, int port, String modelsDir, List<String> models,
                        RuntimeOptions runtime, Batching batching, ContextCache contextCache, int maxMessageBytes,
                        int drainSeconds, int maxStreamInflight, Integer metricsPort, Boolean reflection,
                        Security security) {
        this(name, role, host, port, modelsDir, models, runtime, batching, contextCache, maxMessageBytes, drainSeconds,
                maxStreamInflight, metricsPort, reflection, security, null);
    }

    /**
     * {@code apply_guidance: false}: the worker does not list {@code flowblend-guidance} in its
     * ServerMetadata and refuses the {@code guidance_scale} parameter, so orchestrators send every
     * guided step as both branches and combine them themselves (what a worker without the
     * extension gets; {@code ./flowblend bench --transport} compares the two forms).
     */
    public WorkerConfig withApplyGuidance(boolean apply) {
        return new WorkerConfig(name, role, host, port, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, apply);
    }

    public WorkerConfig withPort(int newPort) {
        return new WorkerConfig(name, role, host, newPort, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withHost(String newHost) {
        return new WorkerConfig(name, role, newHost, port, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withMetricsPort(Integer newMetricsPort) {
        return new WorkerConfig(name, role, host, port, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, newMetricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withName(String newName) {
        return new WorkerConfig(newName, role, host, port, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withModelsDir(String dir) {
        return new WorkerConfig(name, role, host, port, dir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withRuntime(RuntimeOptions options) {
        return new WorkerConfig(name, role, host, port, modelsDir, models, options, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withBatching(Batching b) {
        return new WorkerConfig(name, role, host, port, modelsDir, models, runtime, b, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withMaxStreamInflight(int n) {
        return new WorkerConfig(name, role, host, port, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, n, metricsPort, reflection, security, applyGuidance);
    }

    public WorkerConfig withSecurity(Security s) {
        return new WorkerConfig(name, role, host, port, modelsDir, models, runtime, batching, contextCache,
                maxMessageBytes, drainSeconds, maxStreamInflight, metricsPort, reflection, s, applyGuidance);
    }

    /**
     * How a worker's port is secured: {@code tls} is its server certificate and the CA that callers'
     * client certificates must chain to (mutual TLS: a caller without one is refused in the
     * handshake). Plaintext only when {@code plaintext} is true, logged as a warning at start-up.
     */
    public record Security(boolean plaintext, TlsFiles tls, Integer healthPort) {
        /** Plaintext, any caller: tests over in-process transport, the loopback demo. */
        public static final Security PLAINTEXT = new Security(true, null, null);

        public Security {
            tls = tls == null ? null : tls.at("worker.security.tls");
            if (!plaintext && tls == null) {
                throw new IllegalArgumentException("worker.security has no 'tls'; configure it, or set 'plaintext': true");
            }
            if (healthPort != null && (healthPort < 0 || healthPort > 65535)) {
                throw new IllegalArgumentException("worker.security.health_port is " + healthPort
                        + "; must be 1 to 65535 (0: any free port)");
            }
        }

        @JsonCreator
        static Security of(@JsonProperty("plaintext") Boolean plaintext, @JsonProperty("tls") TlsFiles tls,
                           @JsonProperty("health_port") Integer healthPort) {
            return new Security(or(plaintext, false), tls, healthPort);
        }
    }

    /**
     * Dynamic batching (Triton semantics): requests queue per model; whenever the model is free the
     * batcher takes everything queued up to max_batch_size samples, waiting at most
     * max_queue_delay_micros for more. The default delay 0 adds no latency to a lone request.
     */
    public record Batching(int maxBatchSize, long maxQueueDelayMicros, int maxQueueSize) {
        public static final Batching DEFAULT = new Batching(32, 0, 256);

        /** From a config file: every key may be left out and then takes its value in {@link #DEFAULT}. */
        @JsonCreator
        static Batching of(@JsonProperty("max_batch_size") Integer maxBatchSize,
                           @JsonProperty("max_queue_delay_micros") Long maxQueueDelayMicros,
                           @JsonProperty("max_queue_size") Integer maxQueueSize) {
            return new Batching(or(maxBatchSize, DEFAULT.maxBatchSize), or(maxQueueDelayMicros, DEFAULT.maxQueueDelayMicros),
                    or(maxQueueSize, DEFAULT.maxQueueSize));
        }

        public Batching {
            if (maxBatchSize < 1 || maxBatchSize > 4096) {
                throw new IllegalArgumentException("batching.max_batch_size is " + maxBatchSize + "; must be 1 to 4096");
            }
            if (maxQueueDelayMicros < 0 || maxQueueDelayMicros > 1_000_000) {
                throw new IllegalArgumentException("batching.max_queue_delay_micros is " + maxQueueDelayMicros
                        + "; must be 0 to 1000000");
            }
            if (maxQueueSize < 1 || maxQueueSize > 1_000_000) {
                throw new IllegalArgumentException("batching.max_queue_size is " + maxQueueSize + "; must be 1 to 1000000");
            }
        }
    }

    /**
     * The conditioning cache: contexts kept by content id so a generation sends each one once per
     * worker; no caller holds more than {@code max_bytes_per_caller} of it (default: half of
     * {@code max_bytes}, so one orchestrator's churn never evicts all of another's entries).
     */
    public record ContextCache(long maxBytes, long expireAfterAccessSeconds, long maxBytesPerCaller) {
        public static final ContextCache DEFAULT = new ContextCache(256L << 20, 600);

        /** With the default per-caller budget: half of {@code maxBytes}. */
        public ContextCache(long maxBytes, long expireAfterAccessSeconds) {
            this(maxBytes, expireAfterAccessSeconds, maxBytes / 2);
        }

        /** From a config file: every key may be left out and then takes its default. */
        @JsonCreator
        static ContextCache of(@JsonProperty("max_bytes") Long maxBytes,
                               @JsonProperty("expire_after_access_seconds") Long expireAfterAccessSeconds,
                               @JsonProperty("max_bytes_per_caller") Long maxBytesPerCaller) {
            long max = or(maxBytes, DEFAULT.maxBytes);
            return new ContextCache(max, or(expireAfterAccessSeconds, DEFAULT.expireAfterAccessSeconds),
                    or(maxBytesPerCaller, max / 2));
        }

        public ContextCache {
            if (maxBytes < 0) {
                throw new IllegalArgumentException("context_cache.max_bytes is " + maxBytes + "; must be >= 0 (0 disables)");
            }
            if (expireAfterAccessSeconds < 1) {
                throw new IllegalArgumentException("context_cache.expire_after_access_seconds is "
                        + expireAfterAccessSeconds + "; must be >= 1");
            }
            if (maxBytesPerCaller < 0 || maxBytesPerCaller > maxBytes) {
                throw new IllegalArgumentException("context_cache.max_bytes_per_caller is " + maxBytesPerCaller
                        + "; must be 0 to max_bytes (" + maxBytes + ")");
            }
        }
    }
}
