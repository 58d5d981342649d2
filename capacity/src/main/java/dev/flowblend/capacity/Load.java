package dev.flowblend.capacity;

/**
 * The offered load and how long a run lasts. Closed loop: {@code clients} clients, each issuing
 * its next request {@code thinkMs} after its previous one ended (completed or refused). Open
 * loop: Poisson arrivals at {@code ratePerS} videos per second from a seeded generator. A run
 * counts {@code count} requests and ends when all of them have ended (requests keep arriving
 * until then, uncounted, so the last counted ones see the full load), or at {@code maxSimulatedS}
 * of simulated time, whichever comes first; the first {@code warmup} counted requests are left
 * out of every statistic. Same inputs and seed, same numbers. Immutable.
 */
public record Load(Kind kind, int clients, double thinkMs, double ratePerS, int count, int warmup, long seed,
                   double maxSimulatedS) {
    public enum Kind { CLOSED, OPEN }

    public static final int DEFAULT_COUNT = 2000;
    public static final long DEFAULT_SEED = 1;
    /** About three years of simulated time: a bound, not a target (count ends a run first). */
    public static final double DEFAULT_MAX_SIMULATED_S = 1e8;
    static final int MAX_COUNT = 10_000_000;

    /** A closed loop of {@code clients} with no think time, DEFAULT_COUNT requests, 10% warm-up. */
    public static Load closed(int clients) {
        return new Load(Kind.CLOSED, clients, 0, 0, DEFAULT_COUNT, DEFAULT_COUNT / 10, DEFAULT_SEED, DEFAULT_MAX_SIMULATED_S);
    }

    /** Poisson arrivals at {@code ratePerS}, DEFAULT_COUNT requests, 10% warm-up. */
    public static Load open(double ratePerS) {
        return new Load(Kind.OPEN, 0, 0, ratePerS, DEFAULT_COUNT, DEFAULT_COUNT / 10, DEFAULT_SEED, DEFAULT_MAX_SIMULATED_S);
    }

    /** {@code n} requests, the first {@code n / 10} a warm-up. */
    public Load count(int n) {
        return new Load(kind, clients, thinkMs, ratePerS, n, n / 10, seed, maxSimulatedS);
    }

    public Load warmup(int n) {
        return new Load(kind, clients, thinkMs, ratePerS, count, n, seed, maxSimulatedS);
    }

    public Load seed(long s) {
        return new Load(kind, clients, thinkMs, ratePerS, count, warmup, s, maxSimulatedS);
    }

    public Load thinkMs(double ms) {
        return new Load(kind, clients, ms, ratePerS, count, warmup, seed, maxSimulatedS);
    }

    public Load maxSimulatedS(double s) {
        return new Load(kind, clients, thinkMs, ratePerS, count, warmup, seed, s);
    }

    /**
     * Validates the load against the orchestrator's limits: a closed loop without think time and
     * more clients than can run or wait would retry refused requests at the same instant forever.
     */
    void check(OrchestratorCosts o) {
        Check.range("count", count, 1, MAX_COUNT);
        Check.range("warmup", warmup, 0, count - 1);
        Check.positive("max_simulated_s", maxSimulatedS, 1e12);
        if (kind == Kind.OPEN) {
            Check.positive("rate", ratePerS, 1e6);
            return;
        }
        Check.range("concurrency", clients, 1, 1_000_000);
        Check.range("think_ms", thinkMs, 0, ModelCosts.MAX_MS);
        long room = (long) o.maxConcurrentGenerations() + o.maxQueuedGenerations();
        Check.that(thinkMs > 0 || clients <= room, "concurrency is " + clients + "; must be <= " + room
                + " (orchestrator.max_concurrent_generations + max_queued_generations) without think time: "
                + "refused clients would retry at the same instant");
    }

    public String describe() {
        return kind == Kind.OPEN ? "Poisson " + Check.show(ratePerS) + "/s"
                : clients + " closed-loop clients" + (thinkMs > 0 ? " (think " + Check.show(thinkMs) + " ms)" : "");
    }
}
