package dev.flowblend.capacity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cheapest replica counts for a target Poisson rate under a p95 latency SLO, for every
 * placement of the text encoder and the decoder (each on any pool whose models include it:
 * the large pool, the small pool, or a pool of their own), the cheapest feasible one marked best.
 *
 * <p>Per placement: start each used pool at the least workers that keep its utilisation below 1
 * (λ × its work per video at full batches ÷ workers < 1, {@link ModelCosts#minMsPerSample}); simulate;
 * while p95 exceeds the SLO, grow the pool where a measured video spends the most time queued
 * (by max(1, 5%)); then shrink each grown pool, dearest first, by bisection to the fewest workers
 * that still meet the SLO. Greedy, not exhaustive: it finds a cheapest configuration along that
 * path, which with one clear bottleneck is the cheapest. Feasible means: no run left unfinished,
 * p95 ≤ SLO, every pool's utilisation below 1 (simulated; and offered, below
 * {@link Options#maxUtilisation}), and queues that stopped growing within
 * the run ({@link #MAX_TREND}).
 *
 * <p>Admission (max_concurrent_generations) matters: without a limit every generation in flight
 * shares the workers step by step, like processor sharing, and each one's latency stretches
 * with the load; a limit near the parallelism the rate needs serves them closer to first come,
 * first served, which for equal-sized jobs lowers the p95. So once sized without a limit, each
 * placement is simulated at limits of 1.5, 2 and 3 times λ × unloaded latency (Little's law: the
 * generations in flight at that rate with no waiting); the limit with the lowest p95, if it meets
 * the SLO and beats no limit, is kept and the pools are shrunk again under it. The result's
 * max_concurrent_generations is that limit, or without one the most generations the run had in
 * flight at once (the value that keeps the orchestrator's limit from adding waiting);
 * max_queued_generations the most that waited.
 * Stateless.
 */
public final class Planner {
    /**
     * Each simulated run's length (the warm-up grows to cover three unloaded latencies of
     * arrivals), its seed, a bound on the runs per placement, and the utilisation every pool must
     * stay below (1: the criterion itself; lower keeps headroom for peaks the Poisson mean rate
     * does not have).
     */
    public record Options(int count, int warmup, long seed, int maxSimulations, double maxUtilisation) {
        public static final Options DEFAULT = new Options(2000, 200, 1, 400, 1.0);

        public Options withMaxUtilisation(double u) {
            return new Options(count, warmup, seed, maxSimulations, u);
        }

        void check() {
            Check.range("count", count, 1, Load.MAX_COUNT);
            Check.range("warmup", warmup, 0, Load.MAX_COUNT);
            Check.range("max_simulations", maxSimulations, 1, 100_000);
            Check.that(maxUtilisation > 0 && maxUtilisation <= 1, "max_utilisation is " + Check.show(maxUtilisation)
                    + "; must be > 0 and <= 1");
        }
    }

    /**
     * A pool's size and price; {@code utilisation} is the offered load λ × work per video ÷
     * workers (at full batches: exact for linear costs, a lower bound otherwise),
     * {@code simulatedUtilisation} the busy fraction the run measured (with the noise of its
     * sampled arrivals).
     */
    public record PoolPlan(int workers, double utilisation, double simulatedUtilisation, double pricePerHour) {
    }

    /** One placement's outcome; infeasible ones say why in {@code reason} (null when feasible). */
    public record Placement(String textEncoderPool, String decoderPool, boolean feasible, String reason,
                            Map<String, PoolPlan> pools, double throughputPerS, double latencyP50S, double latencyP95S,
                            double dollarsPerHour, double dollarsPerVideo, int maxConcurrentGenerations,
                            int maxQueuedGenerations, int simulations, boolean best) {
        Placement marked() {
            return new Placement(textEncoderPool, decoderPool, feasible, reason, pools, throughputPerS, latencyP50S,
                    latencyP95S, dollarsPerHour, dollarsPerVideo, maxConcurrentGenerations, maxQueuedGenerations,
                    simulations, true);
        }

        /** Total workers, all pools. */
        public int workers() {
            return pools.values().stream().mapToInt(PoolPlan::workers).sum();
        }
    }

    public record Result(String plan, double ratePerS, double sloP95S, List<Placement> placements) {
        /** The cheapest feasible placement, or null. */
        public Placement best() {
            return placements.stream().filter(Placement::best).findFirst().orElse(null);
        }
    }

    /**
     * A run whose later half of generations took more than 5% longer than its earlier half was
     * still filling its queues (near saturation a finite run never reaches the steady state):
     * its p95 understates the real one, so it does not count as meeting the SLO.
     */
    static final double MAX_TREND = 1.05;

    private Planner() {
    }

    public static Result plan(Costs costs, double ratePerS, double sloP95S, Options o) {
        costs.check();
        Check.positive("rate", ratePerS, 1e6);
        Check.positive("slo_p95", sloP95S, 1e9);
        o.check();
        List<String> encoders = hosts(costs, Costs.TEXT_ENCODER);
        List<String> decoders = hosts(costs, Costs.DECODER);
        List<Placement> all = new ArrayList<>();
        for (String te : encoders) {
            for (String dec : decoders) {
                all.add(placement(costs.withPlacement(te, dec), ratePerS, sloP95S, o));
            }
        }
        Placement best = all.stream().filter(Placement::feasible)
                .min(Comparator.comparingDouble(Placement::dollarsPerVideo).thenComparingDouble(Placement::latencyP95S))
                .orElse(null);
        List<Placement> out = new ArrayList<>();
        for (Placement p : all) {
            out.add(p == best ? p.marked() : p);
        }
        return new Result(costs.plan().describe(), ratePerS, sloP95S, List.copyOf(out));
    }

    private static List<String> hosts(Costs costs, String model) {
        List<String> out = new ArrayList<>();
        costs.pools().forEach((name, p) -> {
            if (p.models().containsKey(model)) {
                out.add(name);
            }
        });
        return out;
    }

    /** The search for one placement. */
    private static Placement placement(Costs base, double rate, double slo, Options o) {
        Work work = Work.of(base);
        Map<String, Integer> lower = new LinkedHashMap<>();
        // the fewest workers with rate x work / workers below the bound
        work.msPerVideo().forEach((pool, ms) -> lower.put(pool,
                Math.max(1, (int) Math.floor(rate * ms / 1000 / o.maxUtilisation()) + 1)));
        OrchestratorCosts orch = base.orchestrator();
        if (work.unloadedMs() / 1000 > slo) {
            return infeasible(base, lower, "unloaded latency " + fmt(work.unloadedMs() / 1000) + " s exceeds the SLO", 0, rate);
        }
        if (rate * orch.encodeMs() / 1000 >= orch.encodeThreads()) {
            return infeasible(base, lower, "orchestrator.encode_threads (" + orch.encodeThreads()
                    + ") cannot encode " + fmt(rate) + " videos/s of " + fmt(orch.encodeMs()) + " ms", 0, rate);
        }
        int warmup = Math.max(o.warmup(), (int) Math.ceil(3 * rate * work.unloadedMs() / 1000));
        Load load = Load.open(rate).count(Math.max(o.count(), warmup + o.count())).warmup(warmup).seed(o.seed());
        Search s = new Search(base, load, slo);
        Map<String, Integer> n = new LinkedHashMap<>(lower);
        SimResult r = s.run(n);
        while (!s.feasible(r)) {
            String grow = bottleneck(r, n);
            if (grow == null || s.runs >= o.maxSimulations()) {
                String why = grow == null ? "p95 " + fmt(r.latencyP95S()) + " s exceeds the SLO without queueing at any pool"
                        : "no size within " + o.maxSimulations() + " simulations meets the SLO";
                return infeasible(base, n, why, s.runs, rate);
            }
            n.put(grow, n.get(grow) + Math.max(1, (int) Math.ceil(n.get(grow) * 0.05)));
            r = s.run(n);
        }
        List<String> grown = new ArrayList<>();
        n.forEach((pool, k) -> {
            if (k > lower.get(pool)) {
                grown.add(pool);
            }
        });
        grown.sort(Comparator.comparingDouble((String p) -> -base.pools().get(p).pricePerHour()));
        for (String pool : grown) {
            int lo = lower.get(pool);
            int hi = n.get(pool);
            while (lo < hi) {  // hi is feasible; find the fewest that is
                int mid = (lo + hi) >>> 1;
                n.put(pool, mid);
                if (s.feasible(s.run(n))) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            n.put(pool, hi);
        }
        r = s.run(n);
        admission(s, r, n, lower, base, rate * work.unloadedMs() / 1000);
        r = s.run(n);
        return result(base, n, r, rate, s.runs, null, s.limit, work);
    }

    /**
     * Tries admission limits at 1.5, 2 and 3 x the generations in flight that Little's law gives
     * ({@code inFlight}); keeps the one with the lowest feasible p95 when it beats no limit, then
     * shrinks the pools, dearest first, one worker at a time while the SLO still holds.
     */
    private static void admission(Search s, SimResult unlimited, Map<String, Integer> n, Map<String, Integer> lower,
                                  Costs base, double inFlight) {
        double bestP95 = unlimited.latencyP95S();
        int best = OrchestratorCosts.UNLIMITED;
        for (double f : new double[] {1.5, 2, 3}) {
            int m = Math.max(1, (int) Math.ceil(f * inFlight));
            if (m >= unlimited.peakRunning()) {
                continue;  // a limit never reached changes nothing
            }
            s.limit = m;
            SimResult r = s.run(n);
            if (s.feasible(r) && r.latencyP95S() < bestP95) {
                bestP95 = r.latencyP95S();
                best = m;
            }
        }
        s.limit = best;
        if (best == OrchestratorCosts.UNLIMITED) {
            return;
        }
        List<String> dearestFirst = new ArrayList<>(n.keySet());
        dearestFirst.sort(Comparator.comparingDouble((String p) -> -base.pools().get(p).pricePerHour()));
        for (String pool : dearestFirst) {
            while (n.get(pool) > lower.get(pool)) {
                n.put(pool, n.get(pool) - 1);
                if (!s.feasible(s.run(n))) {
                    n.put(pool, n.get(pool) + 1);
                    break;
                }
            }
        }
    }

    /**
     * The pool to grow: the busiest saturated one, else the one where measured videos spent the
     * most time queued; null when none is saturated or queued.
     */
    private static String bottleneck(SimResult r, Map<String, Integer> n) {
        String worst = null;
        double most = 0;
        for (String pool : n.keySet()) {
            double u = r.pools().get(pool).utilisation();
            if (u >= 1.0 && u > most) {
                most = u;
                worst = pool;
            }
        }
        if (worst != null) {
            return worst;
        }
        for (String pool : n.keySet()) {
            SimResult.PoolStats p = r.pools().get(pool);
            double queued = p.meanQueueWaitS() * p.measuredCalls();
            if (queued > most) {
                most = queued;
                worst = pool;
            }
        }
        return worst;
    }

    private static Placement result(Costs base, Map<String, Integer> n, SimResult r, double rate, int sims,
                                    String reason, int limit, Work work) {
        Map<String, PoolPlan> pools = new LinkedHashMap<>();
        double perHour = 0;
        for (Map.Entry<String, Integer> e : n.entrySet()) {
            double price = base.pools().get(e.getKey()).pricePerHour();
            perHour += price * e.getValue();
            double offered = rate * work.msPerVideo().get(e.getKey()) / 1000 / e.getValue();
            pools.put(e.getKey(), new PoolPlan(e.getValue(), offered,
                    r == null ? Double.NaN : r.pools().get(e.getKey()).utilisation(), price));
        }
        boolean ok = reason == null;
        return new Placement(base.textEncoderPool(), base.decoderPool(), ok, reason, pools,
                r == null ? Double.NaN : r.throughputPerS(), r == null ? Double.NaN : r.latencyP50S(),
                r == null ? Double.NaN : r.latencyP95S(), perHour, perHour / (rate * 3600),
                r == null ? 0 : limit < OrchestratorCosts.UNLIMITED ? limit : r.peakRunning(),
                r == null ? 0 : r.peakQueued(), sims, false);
    }

    private static Placement infeasible(Costs base, Map<String, Integer> n, String reason, int sims, double rate) {
        return result(base, n, null, rate, sims, reason, OrchestratorCosts.UNLIMITED, Work.of(base));
    }

    static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.3g", v);
    }

    /** Simulated runs of one placement at given worker counts; unused pools get none. */
    private static final class Search {
        final Costs costs;
        final Load load;
        final double slo;
        int limit = OrchestratorCosts.UNLIMITED;  // max_concurrent_generations of the runs; nothing is refused
        int runs;
        final Map<String, SimResult> cache = new java.util.HashMap<>();

        Search(Costs costs, Load load, double slo) {
            this.costs = costs;
            this.load = load;
            this.slo = slo;
        }

        /** A run of these worker counts at the current limit; the same ones again come from the cache (runs are deterministic). */
        SimResult run(Map<String, Integer> n) {
            String key = n + "@" + limit;
            SimResult known = cache.get(key);
            if (known != null) {
                return known;
            }
            runs++;
            Map<String, PoolCosts> pools = new LinkedHashMap<>();
            costs.pools().forEach((name, p) -> pools.put(name, p.withWorkers(n.getOrDefault(name, 0))));
            OrchestratorCosts o = costs.orchestrator().withLimits(limit, OrchestratorCosts.UNLIMITED);
            SimResult r = Simulation.run(costs.withPools(pools).withOrchestrator(o), load);
            cache.put(key, r);
            return r;
        }

        /**
         * Within the SLO, no pool saturated in the run, the queues no longer growing ({@link
         * #MAX_TREND}). The utilisation bound is not checked here: the worker counts start at it
         * by the offered load (exact, where the run's own utilisation carries the noise of its
         * sampled arrivals) and never go below it.
         */
        boolean feasible(SimResult r) {
            return r.unfinished() == 0 && r.latencyP95S() <= slo && r.maxUtilisation() < 1.0
                    && r.latencyTrend() <= MAX_TREND;
        }
    }
}
