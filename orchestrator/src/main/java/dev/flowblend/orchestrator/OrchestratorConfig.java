package dev.flowblend.orchestrator;

import static dev.flowblend.runtime.Json.or;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flowblend.security.AuthConfig;
import dev.flowblend.security.TlsFiles;
import dev.flowblend.telemetry.MetricsPort;
import java.util.List;
import java.util.Map;

/**
 * The orchestrator's configuration: its port, the model family (for conventions, tokenizer and
 * FLOPs), the worker pools and their endpoints, which pools host the text encoder and decoder,
 * plans, and limits. Immutable; validated on construction with messages naming field and value.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record OrchestratorConfig(
        String host,
        int port,
        String modelsDir,
        List<PoolConfig> pools,
        List<String> textEncoderPools,
        List<String> decoderPools,
        String defaultPlan,
        Map<String, String> plans,
        Limits limits,
        long promptCacheEntries,
        int videoScale,
        long healthCheckMillis,
        int maxMessageBytes,
        int drainSeconds,
        Long progressIntervalMillis,
        Boolean workerStreams,
        Integer metricsPort,
        Hedging hedging,
        Security security) {

    public OrchestratorConfig {
        host = host == null ? "127.0.0.1" : host;
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("orchestrator port is " + port + "; must be 0 to 65535");
        }
        MetricsPort.validate("orchestrator", metricsPort, port);
        hedging = hedging == null ? Hedging.DEFAULT : hedging;
        if (pools == null || pools.isEmpty()) {
            throw new IllegalArgumentException("orchestrator has no pools; configure at least one under 'pools'");
        }
        pools = List.copyOf(pools);
        if (pools.stream().map(PoolConfig::name).distinct().count() != pools.size()) {
            throw new IllegalArgumentException("pool names must be unique: " + pools.stream().map(PoolConfig::name).toList());
        }
        Fallbacks.checkExplicit(pools);
        textEncoderPools = hostPools("text_encoder_pools", textEncoderPools, pools);
        decoderPools = hostPools("decoder_pools", decoderPools, pools);
        if (security == null) {
            throw new IllegalArgumentException("orchestrator.security is missing; configure 'tls' (the client API) and"
                    + " 'worker_tls' (calls to workers), or set \"security\": {\"plaintext\": true}");
        }
        defaultPlan = defaultPlan == null ? "flowblending" : defaultPlan;
        plans = plans == null ? Map.of() : Map.copyOf(plans);
        limits = limits == null ? Limits.DEFAULT : limits;
        promptCacheEntries = promptCacheEntries == 0 ? 4096 : promptCacheEntries;
        if (promptCacheEntries < 0) {
            throw new IllegalArgumentException("prompt_cache_entries is " + promptCacheEntries + "; must be >= 0");
        }
        if (videoScale < 0 || videoScale > 16) {  // 0: auto, see VideoEncoder.autoScale
            throw new IllegalArgumentException("video_scale is " + videoScale + "; must be 1 to 16 (0: auto)");
        }
        healthCheckMillis = healthCheckMillis == 0 ? 2000 : healthCheckMillis;
        if (healthCheckMillis < 100) {
            throw new IllegalArgumentException("health_check_millis is " + healthCheckMillis + "; must be >= 100");
        }
        maxMessageBytes = maxMessageBytes == 0 ? 64 << 20 : maxMessageBytes;
        if (maxMessageBytes < (1 << 20) || maxMessageBytes > (1 << 30)) {
            throw new IllegalArgumentException("max_message_bytes is " + maxMessageBytes + "; must be 1 MiB to 1 GiB");
        }
        drainSeconds = drainSeconds == 0 ? 60 : drainSeconds;
        progressIntervalMillis = progressIntervalMillis == null ? 100L : progressIntervalMillis;
        workerStreams = workerStreams == null ? Boolean.TRUE : workerStreams;
        if (progressIntervalMillis < 0 || progressIntervalMillis > GenerationRequests.MAX_PROGRESS_INTERVAL_MS) {
            throw new IllegalArgumentException("progress_interval_millis is " + progressIntervalMillis + "; must be 0 to "
                    + GenerationRequests.MAX_PROGRESS_INTERVAL_MS + " (0: an event per step as it finishes)");
        }
    }

    public OrchestratorConfig withPort(int newPort) {
        return new OrchestratorConfig(host, newPort, modelsDir, pools, textEncoderPools, decoderPools, defaultPlan, plans,
                limits, promptCacheEntries, videoScale, healthCheckMillis, maxMessageBytes, drainSeconds,
                progressIntervalMillis, workerStreams, metricsPort, hedging, security);
    }

    public OrchestratorConfig withHost(String newHost) {
        return new OrchestratorConfig(newHost, port, modelsDir, pools, textEncoderPools, decoderPools, defaultPlan, plans,
                limits, promptCacheEntries, videoScale, healthCheckMillis, maxMessageBytes, drainSeconds,
                progressIntervalMillis, workerStreams, metricsPort, hedging, security);
    }

    public OrchestratorConfig withMetricsPort(Integer newMetricsPort) {
        return new OrchestratorConfig(host, port, modelsDir, pools, textEncoderPools, decoderPools, defaultPlan, plans,
                limits, promptCacheEntries, videoScale, healthCheckMillis, maxMessageBytes, drainSeconds,
                progressIntervalMillis, workerStreams, newMetricsPort, hedging, security);
    }

    public OrchestratorConfig withPools(List<PoolConfig> newPools) {
        return new OrchestratorConfig(host, port, modelsDir, newPools, textEncoderPools, decoderPools, defaultPlan, plans,
                limits, promptCacheEntries, videoScale, healthCheckMillis, maxMessageBytes, drainSeconds,
                progressIntervalMillis, workerStreams, metricsPort, hedging, security);
    }

    public OrchestratorConfig withDefaultPlan(String plan) {
        return new OrchestratorConfig(host, port, modelsDir, pools, textEncoderPools, decoderPools, plan, plans,
                limits, promptCacheEntries, videoScale, healthCheckMillis, maxMessageBytes, drainSeconds,
                progressIntervalMillis, workerStreams, metricsPort, hedging, security);
    }

    public OrchestratorConfig withModelsDir(String dir) {
        return new OrchestratorConfig(host, port, dir, pools, textEncoderPools, decoderPools, defaultPlan, plans,
                limits, promptCacheEntries, videoScale, healthCheckMillis, maxMessageBytes, drainSeconds,
                progressIntervalMillis, workerStreams, metricsPort, hedging, security);
    }

    /** The pools that host a shared model (text encoder, decoder): by default "large"; each must be configured. */
    private static List<String> hostPools(String key, List<String> names, List<PoolConfig> pools) {
        names = names == null ? List.of(StagePlan.LARGE) : List.copyOf(names);
        if (names.isEmpty()) {
            throw new IllegalArgumentException(key + " is empty; name at least one pool");
        }
        for (String n : names) {
            if (pools.stream().noneMatch(c -> c.name().equals(n))) {
                throw new IllegalArgumentException(key + " names '" + n + "', which is not a configured pool; pools are "
                        + pools.stream().map(PoolConfig::name).toList());
            }
        }
        return names;
    }

    public PoolConfig pool(String name) {
        return pools.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * One pool: the velocity model its workers host and where they are — a static endpoint list,
     * or a DNS name re-resolved every dns_refresh_millis (a Kubernetes headless Service resolves
     * to one address per ready pod) — and {@code fallback}, the pool that serves its steps while it
     * cannot: a pool name, {@link #NO_FALLBACK}, or null for the default ({@link Fallbacks}: a pool
     * of the family's small velocity model falls back to the first pool of its large one).
     */
    public record PoolConfig(String name, String model, List<String> endpoints, String dns, long dnsRefreshMillis,
                             String fallback) {
        /** {@code "fallback": "none"}: the pool's steps fail when it cannot serve them. */
        public static final String NO_FALLBACK = "none";

        public PoolConfig {
            if (name == null) {
                throw new IllegalArgumentException("pool has no 'name' (lowercase letters, digits and '-')");
            }
            if (!name.matches("[a-z0-9][a-z0-9-]{0,62}")) {
                throw new IllegalArgumentException("pool name '" + name + "' must be lowercase letters, digits and '-'");
            }
            if (name.equals(NO_FALLBACK)) {
                throw new IllegalArgumentException("pool name 'none' is reserved (\"fallback\": \"none\" means no fallback)");
            }
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("pool '" + name + "' has no model (e.g. velocity-large)");
            }
            endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
            if (endpoints.isEmpty() == (dns == null || dns.isBlank())) {
                throw new IllegalArgumentException("pool '" + name + "' needs exactly one of 'endpoints' or 'dns'");
            }
            for (String e : endpoints) {
                if (!e.matches("[^:\\s]+:\\d{1,5}")) {
                    throw new IllegalArgumentException("pool '" + name + "' endpoint '" + e + "' must be host:port");
                }
            }
            if (dns != null && !dns.matches("[^:\\s]+:\\d{1,5}")) {
                throw new IllegalArgumentException("pool '" + name + "' dns '" + dns + "' must be host:port");
            }
            dnsRefreshMillis = dnsRefreshMillis == 0 ? 5000 : dnsRefreshMillis;
            if (dnsRefreshMillis < 100) {
                throw new IllegalArgumentException("pool '" + name + "' dns_refresh_millis is " + dnsRefreshMillis
                        + "; must be >= 100");
            }
        }

        /** A pool with the default fallback. */
        public PoolConfig(String name, String model, List<String> endpoints, String dns, long dnsRefreshMillis) {
            this(name, model, endpoints, dns, dnsRefreshMillis, null);
        }

        public PoolConfig withFallback(String newFallback) {
            return new PoolConfig(name, model, endpoints, dns, dnsRefreshMillis, newFallback);
        }
    }

    /** Admission and request limits. */
    public record Limits(int maxConcurrentGenerations, int maxQueuedGenerations, int maxPromptChars, int maxSteps,
                         double maxGuidanceScale, long stepTimeoutMillis, int maxStepAttempts) {
        public static final Limits DEFAULT = new Limits(4, 64, 1000, 1000, 30.0, 60_000, 3);

        /** From a config file: every key may be left out and then takes its value in {@link #DEFAULT}. */
        @JsonCreator
        static Limits of(@JsonProperty("max_concurrent_generations") Integer maxConcurrentGenerations,
                         @JsonProperty("max_queued_generations") Integer maxQueuedGenerations,
                         @JsonProperty("max_prompt_chars") Integer maxPromptChars,
                         @JsonProperty("max_steps") Integer maxSteps,
                         @JsonProperty("max_guidance_scale") Double maxGuidanceScale,
                         @JsonProperty("step_timeout_millis") Long stepTimeoutMillis,
                         @JsonProperty("max_step_attempts") Integer maxStepAttempts) {
            Limits d = DEFAULT;
            return new Limits(or(maxConcurrentGenerations, d.maxConcurrentGenerations),
                    or(maxQueuedGenerations, d.maxQueuedGenerations), or(maxPromptChars, d.maxPromptChars),
                    or(maxSteps, d.maxSteps), or(maxGuidanceScale, d.maxGuidanceScale),
                    or(stepTimeoutMillis, d.stepTimeoutMillis), or(maxStepAttempts, d.maxStepAttempts));
        }

        public Limits {
            if (maxConcurrentGenerations < 1) {
                throw new IllegalArgumentException("limits.max_concurrent_generations is " + maxConcurrentGenerations + "; must be >= 1");
            }
            if (maxQueuedGenerations < 0) {
                throw new IllegalArgumentException("limits.max_queued_generations is " + maxQueuedGenerations + "; must be >= 0");
            }
            if (maxPromptChars < 1) {
                throw new IllegalArgumentException("limits.max_prompt_chars is " + maxPromptChars + "; must be >= 1");
            }
            if (maxSteps < 1) {
                throw new IllegalArgumentException("limits.max_steps is " + maxSteps + "; must be >= 1");
            }
            if (!(maxGuidanceScale >= 1)) {
                throw new IllegalArgumentException("limits.max_guidance_scale is " + maxGuidanceScale + "; must be >= 1");
            }
            if (stepTimeoutMillis < 1) {
                throw new IllegalArgumentException("limits.step_timeout_millis is " + stepTimeoutMillis + "; must be >= 1");
            }
            if (maxStepAttempts < 1) {
                throw new IllegalArgumentException("limits.max_step_attempts is " + maxStepAttempts + "; must be >= 1");
            }
        }
    }

    /**
     * How the orchestrator's two links are secured: {@code tls} for the client API (its server
     * certificate; {@code ca_file} unused there), {@code worker_tls} for its calls to workers (its
     * client certificate, and the CA the workers' certificates must chain to: mutual TLS), {@code
     * auth} for client bearer tokens. A link without TLS is plaintext only when {@code plaintext} is
     * true, and that is logged as a warning at start-up.
     */
    public record Security(boolean plaintext, TlsFiles tls, TlsFiles workerTls, AuthConfig auth, Integer healthPort) {
        /** Every link plaintext, no client authentication: tests over in-process transport, the loopback demo. */
        public static final Security PLAINTEXT = new Security(true, null, null, null, null);

        public Security {
            tls = tls == null ? null : tls.at("orchestrator.security.tls");
            workerTls = workerTls == null ? null : workerTls.at("orchestrator.security.worker_tls");
            if (!plaintext && (tls == null || workerTls == null)) {
                throw new IllegalArgumentException("orchestrator.security has no " + (tls == null ? "'tls'" : "'worker_tls'")
                        + "; configure it, or set 'plaintext': true to run that link without TLS");
            }
            if (healthPort != null && (healthPort < 0 || healthPort > 65535)) {
                throw new IllegalArgumentException("orchestrator.security.health_port is " + healthPort
                        + "; must be 1 to 65535 (0: any free port)");
            }
        }

        /** Without a separate health port. */
        public Security(boolean plaintext, TlsFiles tls, TlsFiles workerTls, AuthConfig auth) {
            this(plaintext, tls, workerTls, auth, null);
        }

        @JsonCreator
        static Security of(@JsonProperty("plaintext") Boolean plaintext, @JsonProperty("tls") TlsFiles tls,
                           @JsonProperty("worker_tls") TlsFiles workerTls, @JsonProperty("auth") AuthConfig auth,
                           @JsonProperty("health_port") Integer healthPort) {
            return new Security(or(plaintext, false), tls, workerTls, auth, healthPort);
        }
    }

    /**
     * Straggler hedging: a velocity call unanswered after {@code multiplier} x the pool's recent
     * {@code percentile} latency (at least {@code min_millis}) is sent once more to another
     * healthy worker of the pool, and the first answer wins (a velocity call is a pure function of
     * its inputs, so both answers are the same). {@code multiplier} 0 turns it off.
     */
    public record Hedging(double percentile, double multiplier, long minMillis) {
        public static final Hedging DEFAULT = new Hedging(95, 3, 5);

        public Hedging {
            if (!(percentile >= 50 && percentile <= 100)) {
                throw new IllegalArgumentException("hedging.percentile is " + percentile + "; must be 50 to 100");
            }
            if (!(multiplier == 0 || (multiplier >= 1 && multiplier <= 100))) {
                throw new IllegalArgumentException("hedging.multiplier is " + multiplier
                        + "; must be 0 (off) or 1 to 100");
            }
            if (minMillis < 1 || minMillis > 3_600_000) {
                throw new IllegalArgumentException("hedging.min_millis is " + minMillis + "; must be 1 to 3600000");
            }
        }

        /** From a config file: every key may be left out and then takes its value in {@link #DEFAULT}. */
        @JsonCreator
        static Hedging of(@JsonProperty("percentile") Double percentile, @JsonProperty("multiplier") Double multiplier,
                          @JsonProperty("min_millis") Long minMillis) {
            return new Hedging(or(percentile, DEFAULT.percentile), or(multiplier, DEFAULT.multiplier),
                    or(minMillis, DEFAULT.minMillis));
        }

        boolean enabled() {
            return multiplier > 0;
        }
    }
}
