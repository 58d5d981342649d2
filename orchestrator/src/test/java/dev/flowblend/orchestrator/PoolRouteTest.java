package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The order in which a call goes down a list of pools, and when it stops. */
class PoolRouteTest {
    private final List<String> asked = new ArrayList<>();

    /** Each pool answers its name, or fails as {@code failing} says. */
    private CompletableFuture<String> call(String pool, Map<String, BackendException.Kind> failing) {
        asked.add(pool);
        BackendException.Kind k = failing.get(pool);
        return k == null ? CompletableFuture.completedFuture(pool) : CompletableFuture.failedFuture(
                new BackendException(k, "pool '" + pool + "' failed " + k, "pool '" + pool + "' at 10.0.0.1 failed", null));
    }

    private PoolRoute.Served<String> route(List<String> pools, Set<String> healthy,
                                           Map<String, BackendException.Kind> failing) throws BackendException {
        return Backend.await(PoolRoute.call(pools, healthy::contains, p -> call(p, failing)));
    }

    @Test
    void firstPoolHealthy_servesWithoutReason() throws Exception {
        PoolRoute.Served<String> s = route(List.of("small", "large"), Set.of("small", "large"), Map.of());
        assertEquals("small", s.pool());
        assertNull(s.reason());
        assertEquals(List.of("small"), asked);
    }

    @Test
    void firstPoolWithoutHealthyWorker_skippedWithNoTry() throws Exception {
        PoolRoute.Served<String> s = route(List.of("small", "large"), Set.of("large"), Map.of());
        assertEquals("large", s.pool());
        assertEquals(Fallbacks.NO_HEALTHY_WORKER, s.reason());
        assertEquals(List.of("large"), asked);
    }

    @Test
    void firstPoolFailsUnavailableOrTimesOut_nextServesNamingWhy() throws Exception {
        assertEquals(Fallbacks.UNAVAILABLE, route(List.of("small", "large"), Set.of("small", "large"),
                Map.of("small", BackendException.Kind.UNAVAILABLE)).reason());
        assertEquals(Fallbacks.DEADLINE_EXCEEDED, route(List.of("small", "large"), Set.of("small", "large"),
                Map.of("small", BackendException.Kind.DEADLINE_EXCEEDED)).reason());
    }

    @Test
    void noPoolHealthy_eachTriedInTurn() throws Exception {
        PoolRoute.Served<String> s = route(List.of("a", "b", "c"), Set.of(), Map.of("a", BackendException.Kind.UNAVAILABLE));
        assertEquals("b", s.pool());
        assertEquals(List.of("a", "b"), asked);
    }

    @Test
    void modelErrorOrCancel_notPassedOn() {
        for (BackendException.Kind k : List.of(BackendException.Kind.INTERNAL, BackendException.Kind.CANCELLED,
                BackendException.Kind.FAILED_PRECONDITION, BackendException.Kind.INVALID_ARGUMENT)) {
            asked.clear();
            BackendException e = assertThrows(BackendException.class, () -> route(List.of("small", "large"),
                    Set.of("small", "large"), Map.of("small", k)));
            assertEquals(k, e.kind());
            assertEquals(List.of("small"), asked, k.name());
        }
    }

    @Test
    void everyPoolFails_lastKindWithEveryReasonAndNoAddressForTheClient() {
        BackendException e = assertThrows(BackendException.class, () -> route(List.of("small", "large"), Set.of(),
                Map.of("small", BackendException.Kind.UNAVAILABLE, "large", BackendException.Kind.DEADLINE_EXCEEDED)));
        assertEquals(BackendException.Kind.DEADLINE_EXCEEDED, e.kind());
        assertEquals("pool 'small' failed UNAVAILABLE; then pool 'large' failed DEADLINE_EXCEEDED", e.clientMessage());
        assertEquals("pool 'small' at 10.0.0.1 failed; then pool 'large' at 10.0.0.1 failed", e.getMessage());
    }

    @Test
    void onePool_itsOwnFailureUnchanged() {
        BackendException e = assertThrows(BackendException.class, () -> route(List.of("small"), Set.of("small"),
                Map.of("small", BackendException.Kind.UNAVAILABLE)));
        assertEquals("pool 'small' failed UNAVAILABLE", e.clientMessage());
    }

    @Test
    void skippedPoolThenFallbackFails_bothNamed() {
        BackendException e = assertThrows(BackendException.class, () -> route(List.of("small", "large"), Set.of("large"),
                Map.of("large", BackendException.Kind.UNAVAILABLE)));
        assertEquals("pool 'small' has no healthy worker; then pool 'large' failed UNAVAILABLE", e.clientMessage());
    }
}
