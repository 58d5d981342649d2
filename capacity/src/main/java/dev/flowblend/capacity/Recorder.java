package dev.flowblend.capacity;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a run observed, kept raw while it runs (the measured window is known only at its end):
 * every batch's interval and size, every encode's interval, the counted requests' arrival and
 * completion times, and for measured generations their latency, admission wait and calls' queue
 * waits. Times in ms. Single-threaded.
 */
final class Recorder {
    /** A growable array of doubles (a run records a few hundred thousand). */
    static final class Doubles {
        private double[] a = new double[64];
        private int n;

        void add(double v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        double get(int i) {
            return a[i];
        }

        double[] sorted() {
            double[] s = Arrays.copyOf(a, n);
            Arrays.sort(s);
            return s;
        }
    }

    /** Busy intervals [start, end) of one resource kind. */
    static final class Intervals {
        final Doubles starts = new Doubles();
        final Doubles ends = new Doubles();

        void add(double start, double end) {
            starts.add(start);
            ends.add(end);
        }

        /** Total busy time within [from, to]. */
        double within(double from, double to) {
            double sum = 0;
            for (int i = 0; i < starts.size(); i++) {
                sum += Math.max(0, Math.min(ends.get(i), to) - Math.max(starts.get(i), from));
            }
            return sum;
        }
    }

    /** Batches of one model: when each started, its samples and requests. */
    static final class Batches {
        final Doubles starts = new Doubles();
        final Doubles samples = new Doubles();
        final Doubles requests = new Doubles();
    }

    /** The measured calls' queue waits at one pool's workers. */
    static final class Waits {
        double sumMs;
        long calls;
    }

    final Map<String, Intervals> poolBusy = new LinkedHashMap<>();
    final Map<String, Waits> poolWaits = new LinkedHashMap<>();
    final Map<String, Batches> modelBatches = new LinkedHashMap<>();
    final Intervals encoderBusy = new Intervals();
    final Doubles arrivals = new Doubles();
    final Doubles completions = new Doubles();
    final Doubles latencies = new Doubles();
    final Doubles latencyArrivals = new Doubles();  // the arrival time of each latencies entry, for the trend
    final Doubles admissionWaits = new Doubles();

    void pool(String name) {
        poolBusy.put(name, new Intervals());
        poolWaits.put(name, new Waits());
    }

    void model(String name) {
        modelBatches.putIfAbsent(name, new Batches());
    }

    void queued(String pool, boolean measured, double waitMs) {
        if (measured) {
            Waits w = poolWaits.get(pool);
            w.sumMs += waitMs;
            w.calls++;
        }
    }

    void batch(String pool, String model, double start, double end, int samples, int requests) {
        poolBusy.get(pool).add(start, end);
        Batches b = modelBatches.get(model);
        b.starts.add(start);
        b.samples.add(samples);
        b.requests.add(requests);
    }

    void encoded(double start, double end) {
        encoderBusy.add(start, end);
    }

    /** Nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
