package dev.flowblend.orchestrator;

import dev.flowblend.runtime.ModelFamily;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Which pool serves a pool's steps while it cannot (no healthy worker, or every try failed): its
 * {@code fallback} from the config or, left unset, the default — a pool of the family's small
 * velocity model falls back to the first pool of its large one; any other pool has none. A
 * velocity call is a pure function of its inputs, so sending a step elsewhere is safe; another
 * model runs it, so the step's numbers differ, and every such step is reported (Result metadata,
 * Progress, the generation_fallback log line, {@link OrchestratorMetrics#STEP_FALLBACKS}).
 * Immutable and thread-safe.
 */
final class Fallbacks {
    /** Why a step left its planned pool; spelled here only (metric tag, Progress, metadata). */
    static final String NO_HEALTHY_WORKER = "no_healthy_worker";
    static final String UNAVAILABLE = "unavailable";
    static final String DEADLINE_EXCEEDED = "deadline_exceeded";

    private final Map<String, List<String>> chains = new LinkedHashMap<>();

    private Fallbacks(List<OrchestratorConfig.PoolConfig> pools, Map<String, String> next) {
        for (OrchestratorConfig.PoolConfig p : pools) {
            List<String> chain = new ArrayList<>();
            for (String at = p.name(); at != null; at = next.get(at)) {
                chain.add(at);
            }
            chains.put(p.name(), List.copyOf(chain));
        }
    }

    /** The pools' fallbacks, defaults resolved against {@code family}; refuses a cycle the defaults close. */
    static Fallbacks of(List<OrchestratorConfig.PoolConfig> pools, ModelFamily family) {
        String small = family.byRole(ModelFamily.ROLE_VELOCITY_SMALL).name();
        String large = family.byRole(ModelFamily.ROLE_VELOCITY_LARGE).name();
        String firstLarge = pools.stream().filter(p -> p.model().equals(large)).map(OrchestratorConfig.PoolConfig::name)
                .findFirst().orElse(null);
        Map<String, String> next = new LinkedHashMap<>();
        for (OrchestratorConfig.PoolConfig p : pools) {
            String f = p.fallback() != null ? p.fallback() : p.model().equals(small) ? firstLarge : null;
            if (f != null && !f.equals(OrchestratorConfig.PoolConfig.NO_FALLBACK) && !f.equals(p.name())) {
                next.put(p.name(), f);
            }
        }
        checkCycles(pools, next, " (a pool of " + small + " without a 'fallback' falls back to the first pool of "
                + large + ")");
        return new Fallbacks(pools, next);
    }

    /**
     * The config's own checks of every {@code pools[i].fallback}: a configured pool, not the pool
     * itself, and no cycle among the fallbacks set explicitly.
     */
    static void checkExplicit(List<OrchestratorConfig.PoolConfig> pools) {
        Map<String, String> next = new LinkedHashMap<>();
        List<String> names = pools.stream().map(OrchestratorConfig.PoolConfig::name).toList();
        for (int i = 0; i < pools.size(); i++) {
            OrchestratorConfig.PoolConfig p = pools.get(i);
            String f = p.fallback();
            if (f == null || f.equals(OrchestratorConfig.PoolConfig.NO_FALLBACK)) {
                continue;
            }
            if (f.equals(p.name())) {
                throw new IllegalArgumentException("pools[" + i + "].fallback is '" + f + "', the pool itself; name "
                        + "another pool, or \"none\"");
            }
            if (!names.contains(f)) {
                throw new IllegalArgumentException("pools[" + i + "].fallback is '" + f + "', which is not a configured "
                        + "pool; pools are " + names + " (or \"none\")");
            }
            next.put(p.name(), f);
        }
        checkCycles(pools, next, "");
    }

    /** Refuses a fallback cycle, naming the first pool in it whose fallback is set explicitly. */
    private static void checkCycles(List<OrchestratorConfig.PoolConfig> pools, Map<String, String> next, String note) {
        Function<String, Integer> index = n -> {
            for (int i = 0; i < pools.size(); i++) {
                if (pools.get(i).name().equals(n)) {
                    return i;
                }
            }
            return -1;
        };
        for (OrchestratorConfig.PoolConfig p : pools) {
            List<String> path = new ArrayList<>();
            for (String at = p.name(); at != null; at = next.get(at)) {
                if (path.contains(at)) {
                    List<String> cycle = new ArrayList<>(path.subList(path.indexOf(at), path.size()));
                    cycle.add(at);
                    String culprit = cycle.stream().filter(n -> pools.get(index.apply(n)).fallback() != null)
                            .findFirst().orElse(at);
                    int i = index.apply(culprit);
                    throw new IllegalArgumentException("pools[" + i + "].fallback is '" + pools.get(i).fallback()
                            + "', which makes a cycle: " + String.join(" -> ", cycle) + note
                            + "; end it with \"none\" somewhere");
                }
                path.add(at);
            }
        }
    }

    /** {@code pool} first, then the pool it falls back to, and so on; just {@code pool} when it has none. */
    List<String> chain(String pool) {
        return chains.getOrDefault(pool, List.of(pool));
    }

    /** The pool that serves {@code pool}'s steps while it cannot, or null. */
    String fallback(String pool) {
        List<String> c = chain(pool);
        return c.size() > 1 ? c.get(1) : null;
    }
}
