package dev.flowblend.orchestrator;

import dev.flowblend.telemetry.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Whether the orchestrator can serve a generation with its default plan: every pool that plan
 * needs has at least one healthy worker. Re-evaluated after the health checks; each change is
 * logged once (naming the pools without a worker and why) and passed to {@code sink}, which sets
 * GenerationService's gRPC health, so a load balancer stops sending work it could only fail.
 * Called from one scheduler thread at a time.
 */
final class Readiness {
    private static final Logger LOG = Logger.getLogger(Readiness.class.getName());

    private final RemoteBackend backend;
    private final Set<String> needed;
    private final Consumer<Boolean> sink;
    private volatile boolean ready;
    private String lastProblem = "";

    Readiness(RemoteBackend backend, Set<String> needed, Consumer<Boolean> sink) {
        this.backend = backend;
        this.needed = Set.copyOf(needed);
        this.sink = sink;
    }

    void check() {
        List<String> problems = new ArrayList<>();
        for (String pool : needed) {
            String p = backend.unservable(pool);
            if (p != null) {
                problems.add(p);
            }
        }
        boolean now = problems.isEmpty();
        String problem = String.join("; ", problems);
        if (now != ready || !problem.equals(lastProblem)) {
            if (now) {
                LOG.info(Event.of("readiness_serving").with("pools", needed).toString());
            } else {
                LOG.warning(Event.of("readiness_not_serving").with("reason", problem).toString());
            }
        }
        ready = now;
        lastProblem = problem;
        sink.accept(now);
    }

    boolean ready() {
        return ready;
    }
}
