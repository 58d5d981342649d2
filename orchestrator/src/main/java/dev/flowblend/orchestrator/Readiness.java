package dev.flowblend.orchestrator;

import dev.flowblend.telemetry.Event;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Whether the orchestrator can serve a generation with its default plan: every pool that plan
 * names has a healthy worker, or a pool down its fallback chain has one ({@link Fallbacks}), and
 * at least one of text_encoder_pools and one of decoder_pools has one. Re-evaluated after the
 * health checks; each change is logged once (naming the pools without a worker and why, or the
 * pools served only through a fallback) and passed to {@code sink}, which sets
 * GenerationService's gRPC health, so a load balancer stops sending work it could only fail.
 * Called from one scheduler thread at a time.
 */
final class Readiness {
    private static final Logger LOG = Logger.getLogger(Readiness.class.getName());

    private final RemoteBackend backend;
    private final List<String> planPools;
    private final List<String> textEncoderPools;
    private final List<String> decoderPools;
    private final Consumer<Boolean> sink;
    private volatile boolean ready;
    private String lastState = "";

    Readiness(RemoteBackend backend, Collection<String> planPools, List<String> textEncoderPools,
              List<String> decoderPools, Consumer<Boolean> sink) {
        this.backend = backend;
        this.planPools = List.copyOf(planPools);
        this.textEncoderPools = List.copyOf(textEncoderPools);
        this.decoderPools = List.copyOf(decoderPools);
        this.sink = sink;
    }

    void check() {
        List<String> problems = new ArrayList<>();
        List<String> degraded = new ArrayList<>();
        for (String pool : planPools) {
            List<String> chain = backend.fallbacks().chain(pool);
            String serving = firstServable(chain);
            if (serving == null) {
                problems.add(reasons(chain));
            } else if (!serving.equals(pool)) {
                degraded.add(pool + "->" + serving);
            }
        }
        if (firstServable(textEncoderPools) == null) {
            problems.add("text encoder: " + reasons(textEncoderPools));
        }
        if (firstServable(decoderPools) == null) {
            problems.add("decoder: " + reasons(decoderPools));
        }
        boolean now = problems.isEmpty();
        String state = now ? String.join(",", degraded) : String.join("; ", problems);
        if (now != ready || !state.equals(lastState)) {
            if (!now) {
                LOG.warning(Event.of("readiness_not_serving").with("reason", state).toString());
            } else if (degraded.isEmpty()) {
                LOG.info(Event.of("readiness_serving").with("pools", planPools).toString());
            } else {  // serving, but some planned steps will run on another model
                LOG.warning(Event.of("readiness_serving").with("pools", planPools).with("via_fallback", degraded)
                        .toString());
            }
        }
        ready = now;
        lastState = state;
        sink.accept(now);
    }

    /** The first of {@code pools} with a healthy worker, or null. */
    private String firstServable(List<String> pools) {
        return pools.stream().filter(p -> backend.unservable(p) == null).findFirst().orElse(null);
    }

    /** Why each of {@code pools} cannot serve (a pool and its fallbacks, or a hosted model's pools). */
    private String reasons(List<String> pools) {
        List<String> why = new ArrayList<>();
        pools.forEach(p -> why.add(backend.unservable(p)));
        return String.join("; ", why);
    }

    boolean ready() {
        return ready;
    }
}
