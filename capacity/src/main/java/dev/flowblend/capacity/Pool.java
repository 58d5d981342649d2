package dev.flowblend.capacity;

/**
 * The workers of one pool and the orchestrator's choice among them (WorkerPool.pick): each call
 * goes to the worker with the fewest calls in flight, scanning from a round-robin start so ties
 * rotate. All workers are healthy here (failures, retries and hedging are not modelled).
 * Single-threaded.
 */
final class Pool {
    final String name;
    private final Worker[] workers;
    private long turn;

    Pool(String name, Worker[] workers) {
        this.name = name;
        this.workers = workers;
    }

    int size() {
        return workers.length;
    }

    void submit(Worker.Call c) {
        pick().submit(c);
    }

    Worker pick() {
        int n = workers.length;
        int start = (int) Math.floorMod(turn++, (long) n);
        Worker best = null;
        for (int i = 0; i < n; i++) {
            Worker w = workers[(start + i) % n];
            if (best == null || w.inflight() < best.inflight()) {
                best = w;
            }
        }
        return best;
    }
}
