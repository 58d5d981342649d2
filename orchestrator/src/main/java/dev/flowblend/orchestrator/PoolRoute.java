package dev.flowblend.orchestrator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One model call along a list of pools (a pool and its fallbacks, or the pools that host the text
 * encoder or decoder): the first pool that can serve it does.
 *
 * <ul>
 *   <li>A pool without a healthy worker is passed over, with no try spent on it, while a later pool
 *   has one: while a pool stays empty its steps go straight to its fallback, and it serves again
 *   once a health check passes (within health_check_millis).</li>
 *   <li>A pool whose every try failed UNAVAILABLE or timed out ({@link ModelCall}) hands the call to
 *   the next pool; any other failure (cancelled, a model error, a bad request) ends it.</li>
 *   <li>When no pool has a healthy worker, each is tried in turn anyway (a worker may have come
 *   back since its last health check); the call fails only when the last has failed, with every
 *   pool's reason.</li>
 * </ul>
 *
 * <p>Stateless; the calls run on whichever thread completed the previous pool's call.
 */
final class PoolRoute {
    private PoolRoute() {
    }

    /** The answer, the pool that gave it, and why the pools before it did not (null: the first pool did). */
    record Served<T>(T value, String pool, String reason) {
    }

    /**
     * @param healthy whether a pool has a worker that passed its last health check
     * @param call the call to one pool; its future fails with a {@link BackendException}
     */
    static <T> CompletableFuture<Served<T>> call(List<String> pools, Predicate<String> healthy,
                                                 Function<String, CompletableFuture<T>> call) {
        return next(pools, 0, healthy, call, null, new ArrayList<>());
    }

    private static <T> CompletableFuture<Served<T>> next(List<String> pools, int i, Predicate<String> healthy,
                                                         Function<String, CompletableFuture<T>> call, String reason,
                                                         List<BackendException> failures) {
        String pool = pools.get(i);
        if (i + 1 < pools.size() && !healthy.test(pool) && pools.subList(i + 1, pools.size()).stream().anyMatch(healthy)) {
            failures.add(new BackendException(BackendException.Kind.UNAVAILABLE, "pool '" + pool
                    + "' has no healthy worker"));
            return next(pools, i + 1, healthy, call, reason != null ? reason : Fallbacks.NO_HEALTHY_WORKER, failures);
        }
        CompletableFuture<T> f;
        try {
            f = call.apply(pool);
        } catch (RuntimeException e) {  // never leave the caller without an outcome
            f = CompletableFuture.failedFuture(e);
        }
        return f.handle((value, err) -> {
            if (err == null) {
                return CompletableFuture.completedFuture(new Served<>(value, pool, reason));
            }
            BackendException e = Backend.unwrap(err);
            failures.add(e);
            String why = e.kind() == BackendException.Kind.UNAVAILABLE ? Fallbacks.UNAVAILABLE
                    : e.kind() == BackendException.Kind.DEADLINE_EXCEEDED ? Fallbacks.DEADLINE_EXCEEDED : null;
            if (why != null && i + 1 < pools.size()) {
                return next(pools, i + 1, healthy, call, reason != null ? reason : why, failures);
            }
            return CompletableFuture.<Served<T>>failedFuture(failures.size() == 1 ? e : combined(e, failures));
        }).thenCompose(Function.identity());
    }

    /** The last failure's kind, with every pool's reason in order (client message: no addresses). */
    private static BackendException combined(BackendException last, List<BackendException> failures) {
        StringBuilder client = new StringBuilder();
        StringBuilder detail = new StringBuilder();
        for (BackendException f : failures) {
            client.append(client.length() == 0 ? "" : "; then ").append(f.clientMessage());
            detail.append(detail.length() == 0 ? "" : "; then ").append(f.getMessage());
        }
        return new BackendException(last.kind(), client.toString(), detail.toString(), last);
    }
}
