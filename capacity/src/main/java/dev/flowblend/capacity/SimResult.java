package dev.flowblend.capacity;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One simulated load point. Counts cover the run's {@code count} requests (the tail that kept
 * the load on until they ended is not counted); every other figure covers the measured part:
 * latency, admission wait and queue waits over the counted generations after the first
 * {@code warmup}; throughput, utilisation and batch sizes over the window from the first
 * measured arrival to the last counted one (when those coincide, to the last completion). Latency runs from arrival to the video's end, admission wait included.
 * Percentiles are nearest-rank. {@code latencyTrend}: the mean latency of the later half of the
 * measured generations (by arrival) over that of the earlier half; well above 1, the queues were
 * still growing when the run ended and its percentiles understate the steady state (a longer run,
 * or more workers, is needed). Times in seconds. Immutable; serialises to the JSON of --json.
 */
public record SimResult(String plan, String load, int issued, int completed, int refused, int unfinished,
                        int measured, double windowS, double throughputPerS,
                        double latencyP50S, double latencyP95S, double latencyP99S, double latencyMeanS,
                        double latencyMaxS, double latencyTrend, double admissionWaitMeanS, int peakRunning,
                        int peakQueued,
                        Map<String, PoolStats> pools, Map<String, ModelStats> models, double encoderUtilisation,
                        double simulatedS, long events) {

    /** A pool over the window: busy fraction of its workers, mean wait of a measured call in a worker queue. */
    public record PoolStats(int workers, double utilisation, double meanQueueWaitS, long measuredCalls) {
    }

    /** Batches of a model that started in the window: how many, mean samples and requests per batch. */
    public record ModelStats(long batches, double meanBatchSamples, double meanBatchRequests) {
    }

    public SimResult {
        pools = Collections.unmodifiableMap(new LinkedHashMap<>(pools));
        models = Collections.unmodifiableMap(new LinkedHashMap<>(models));
    }

    /** The highest pool utilisation (the bottleneck's). */
    public double maxUtilisation() {
        return pools.values().stream().mapToDouble(PoolStats::utilisation).max().orElse(0);
    }

    /** Mean latency of the later half of the measured generations, by arrival time, over the earlier half's. */
    static double trend(Recorder r) {
        int n = r.latencies.size();
        if (n < 2) {
            return Double.NaN;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(r.latencyArrivals.get(a), r.latencyArrivals.get(b)));
        double early = 0;
        double late = 0;
        for (int i = 0; i < n; i++) {
            if (i < n / 2) {
                early += r.latencies.get(order[i]);
            } else {
                late += r.latencies.get(order[i]);
            }
        }
        return (late / (n - n / 2)) / (early / (n / 2));
    }

    static SimResult summarize(String plan, String load, Recorder r, Map<String, Integer> workers, int warmup,
                               int issued, int completed, int refused, int unfinished, int peakRunning, int peakQueued,
                               int encodeThreads, double endMs, long events) {
        int n = r.arrivals.size();
        double from = n > warmup ? r.arrivals.get(warmup) : 0;
        double lastArrival = n > 0 ? r.arrivals.get(n - 1) : 0;
        double lastDone = 0;
        for (int i = 0; i < r.completions.size(); i++) {
            lastDone = Math.max(lastDone, r.completions.get(i));
        }
        double to = lastArrival > from ? lastArrival : Math.max(from, lastDone);
        double window = to - from;
        int done = 0;
        for (int i = 0; i < r.completions.size(); i++) {
            double t = r.completions.get(i);
            done += t > from && t <= to ? 1 : 0;
        }
        Map<String, PoolStats> pools = new LinkedHashMap<>();
        r.poolBusy.forEach((name, busy) -> {
            int w = workers.get(name);
            Recorder.Waits waits = r.poolWaits.get(name);
            pools.put(name, new PoolStats(w, window > 0 && w > 0 ? busy.within(from, to) / (w * window) : 0,
                    waits.calls == 0 ? 0 : waits.sumMs / waits.calls / 1000, waits.calls));
        });
        Map<String, ModelStats> models = new LinkedHashMap<>();
        r.modelBatches.forEach((name, b) -> {
            long count = 0;
            double samples = 0;
            double requests = 0;
            for (int i = 0; i < b.starts.size(); i++) {
                double t = b.starts.get(i);
                if (t >= from && t <= to) {
                    count++;
                    samples += b.samples.get(i);
                    requests += b.requests.get(i);
                }
            }
            models.put(name, new ModelStats(count, count == 0 ? 0 : samples / count, count == 0 ? 0 : requests / count));
        });
        double[] lat = r.latencies.sorted();
        double sum = 0;
        for (double v : lat) {
            sum += v;
        }
        double waitSum = 0;
        for (int i = 0; i < r.admissionWaits.size(); i++) {
            waitSum += r.admissionWaits.get(i);
        }
        return new SimResult(plan, load, issued, completed, refused, unfinished, lat.length,
                window / 1000, window > 0 ? done / (window / 1000) : 0,
                Recorder.percentile(lat, 0.50) / 1000, Recorder.percentile(lat, 0.95) / 1000,
                Recorder.percentile(lat, 0.99) / 1000, lat.length == 0 ? Double.NaN : sum / lat.length / 1000,
                lat.length == 0 ? Double.NaN : lat[lat.length - 1] / 1000, trend(r),
                r.admissionWaits.size() == 0 ? 0 : waitSum / r.admissionWaits.size() / 1000, peakRunning, peakQueued,
                pools, models, window > 0 ? r.encoderBusy.within(from, to) / (encodeThreads * window) : 0,
                endMs / 1000, events);
    }
}
