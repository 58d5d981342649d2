package dev.flowblend.cli;

import dev.flowblend.cli.LoadMetricsText.Sample;
import dev.flowblend.cli.LoadMetricsText.Series;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the processes' own metrics say about a point: each endpoint is scraped before and after
 * it, and the counters' differences give, per worker model, its utilisation (busy seconds per
 * wall second), mean batch (samples per batch) and mean queue wait, and per orchestrator pool the
 * mean step time. The orchestrator's queued-generations gauge is sampled while the point runs.
 * A scrape that fails is reported with the point, never fatal: the load's own figures stand.
 */
final class LoadMetrics {
    static final String BUSY = "flowblend_inference_busy_seconds_total";
    static final String SAMPLES = "flowblend_inference_count_total";
    static final String BATCHES = "flowblend_inference_exec_count_total";
    static final String QUEUE_SUM = "flowblend_inference_queue_duration_seconds_sum";
    static final String QUEUE_COUNT = "flowblend_inference_queue_duration_seconds_count";
    static final String STEP_SUM = "flowblend_step_duration_seconds_sum";
    static final String STEP_COUNT = "flowblend_step_duration_seconds_count";
    static final String QUEUED = "flowblend_generations_queued";
    static final long SAMPLE_MILLIS = 250;

    /** Gets one endpoint's text; throws on any failure (a status other than 200 included). */
    interface Fetcher {
        String get(String url) throws IOException, InterruptedException;
    }

    /** One scrape of one endpoint: when ({@link System#nanoTime}, mid-exchange) and its values, or why none. */
    record Scrape(String url, long nanos, Map<Series, Double> values, String error) {
        boolean ok() {
            return error == null;
        }

        static Scrape of(String url, long nanos, String text) {
            Map<Series, Double> v = new HashMap<>();
            for (Sample s : LoadMetricsText.parse(text)) {
                v.put(s.series(), s.value());
            }
            return new Scrape(url, nanos, v, null);
        }
    }

    private final List<String> urls;
    private final Fetcher fetcher;

    LoadMetrics(List<String> urls) {
        this(urls, http(Duration.ofSeconds(2), Duration.ofSeconds(3)));
    }

    LoadMetrics(List<String> urls, Fetcher fetcher) {
        this.urls = List.copyOf(urls);
        this.fetcher = fetcher;
    }

    static Fetcher http(Duration connect, Duration timeout) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(connect).build();
        return url -> {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode());
            }
            return r.body();
        };
    }

    Scrape scrape(String url) {
        long t0 = System.nanoTime();
        try {
            String text = fetcher.get(url);
            return Scrape.of(url, t0 + (System.nanoTime() - t0) / 2, text);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Scrape(url, t0, Map.of(), "interrupted");
        } catch (IOException | RuntimeException e) {
            // HttpClient's ConnectException and timeouts carry no message: the type is the reason
            String why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            return new Scrape(url, t0, Map.of(), why);
        }
    }

    List<Scrape> scrapeAll() {
        return urls.stream().map(this::scrape).toList();
    }

    /**
     * Scrapes every endpoint now and starts sampling the queued gauge of those that have it;
     * {@link Window#finish} ends it.
     */
    Window open() {
        return new Window(scrapeAll());
    }

    /** The metrics of one point, from its before-scrapes until {@link #close}. */
    final class Window implements AutoCloseable {
        private final List<Scrape> before;
        private final ScheduledExecutorService sampler;
        private final AtomicReference<Double> queuedMax = new AtomicReference<>();
        private final AtomicInteger sampleErrors = new AtomicInteger();
        private final AtomicInteger samples = new AtomicInteger();
        private Map<String, Object> report;

        private Window(List<Scrape> before) {
            this.before = before;
            List<String> orchestrators = before.stream().filter(s -> queued(s) != null).map(Scrape::url).toList();
            before.forEach(s -> offerQueued(queued(s)));
            if (orchestrators.isEmpty()) {
                sampler = null;
                return;
            }
            sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "load-metrics-sampler");
                t.setDaemon(true);
                return t;
            });
            sampler.scheduleWithFixedDelay(() -> orchestrators.forEach(u -> {
                Scrape s = scrape(u);
                if (s.ok()) {
                    samples.incrementAndGet();
                    offerQueued(queued(s));
                } else {
                    sampleErrors.incrementAndGet();
                }
            }), SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
        }

        private void offerQueued(Double v) {
            if (v != null) {
                queuedMax.accumulateAndGet(v, (a, b) -> a == null ? b : Math.max(a, b));
            }
        }

        /** Stops sampling, scrapes every endpoint again and returns the point's report (idempotent). */
        synchronized Map<String, Object> finish() {
            if (report == null) {
                close();
                List<Scrape> after = scrapeAll();
                after.forEach(s -> offerQueued(queued(s)));
                report = report(before, after, queuedMax.get(), samples.get(), sampleErrors.get());
            }
            return report;
        }

        /** Stops sampling (a point that failed part-way calls this without {@link #finish}). */
        @Override
        public void close() {
            if (sampler != null) {
                sampler.shutdownNow();
                try {
                    sampler.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static Double queued(Scrape s) {
        return s.ok() ? s.values().get(Series.of(QUEUED)) : null;
    }

    /**
     * The point's figures from each endpoint's pair of scrapes (listed in the same order): worker
     * models and orchestrator pools as found in the after-scrape, endpoints whose scrape failed
     * under {@code errors}. {@code queuedMax} is the largest queued-generations value seen, null
     * when no endpoint had the gauge.
     */
    static Map<String, Object> report(List<Scrape> before, List<Scrape> after, Double queuedMax, int queueSamples,
                                      int queueSampleErrors) {
        List<Map<String, Object>> workers = new ArrayList<>();
        List<Map<String, Object>> pools = new ArrayList<>();
        List<Map<String, Object>> errors = new ArrayList<>();
        for (int i = 0; i < after.size(); i++) {
            Scrape b = before.get(i);
            Scrape a = after.get(i);
            if (!b.ok() || !a.ok()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("url", a.url());
                e.put("phase", !b.ok() ? "before" : "after");
                e.put("error", !b.ok() ? b.error() : a.error());
                errors.add(e);
                continue;
            }
            workers.addAll(workers(b, a));
            pools.addAll(pools(b, a));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("workers", workers);
        m.put("pools", pools);
        m.put("generations_queued_max", queuedMax);
        m.put("generations_queued_samples", queueSamples);
        if (queueSampleErrors > 0) {
            m.put("generations_queued_sample_errors", queueSampleErrors);
        }
        m.put("errors", errors);
        return m;
    }

    /** Per worker model (every series of {@value #BATCHES} after): utilisation, mean batch, mean queue wait. */
    static List<Map<String, Object>> workers(Scrape before, Scrape after) {
        double wall = (after.nanos() - before.nanos()) / 1e9;
        List<Map<String, Object>> out = new ArrayList<>();
        after.values().keySet().stream().filter(s -> s.name().equals(BATCHES))
                .sorted((x, y) -> x.labels().toString().compareTo(y.labels().toString())).forEach(s -> {
                    Map<String, String> l = s.labels();
                    Double busy = delta(before, after, new Series(BUSY, s.labels()));
                    Double samples = delta(before, after, new Series(SAMPLES, s.labels()));
                    Double batches = delta(before, after, s);
                    Double qSum = delta(before, after, new Series(QUEUE_SUM, s.labels()));
                    Double qCount = delta(before, after, new Series(QUEUE_COUNT, s.labels()));
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("url", after.url());
                    m.put("worker", l.get("worker"));
                    m.put("role", l.get("role"));
                    m.put("model", l.get("model"));
                    m.put("wall_s", round(wall, 3));
                    m.put("busy_s", busy == null ? null : round(busy, 4));
                    m.put("utilisation", busy == null || wall <= 0 ? null : round(busy / wall, 4));
                    m.put("batches", batches);
                    m.put("samples", samples);
                    m.put("mean_batch", ratio(samples, batches, 1, 3));
                    m.put("mean_queue_wait_ms", ratio(qSum, qCount, 1000, 3));
                    out.add(m);
                });
        return out;
    }

    /** Per orchestrator pool (every series of {@value #STEP_COUNT} after): steps and mean step time. */
    static List<Map<String, Object>> pools(Scrape before, Scrape after) {
        List<Map<String, Object>> out = new ArrayList<>();
        after.values().keySet().stream().filter(s -> s.name().equals(STEP_COUNT))
                .sorted((x, y) -> x.labels().toString().compareTo(y.labels().toString())).forEach(s -> {
                    Double count = delta(before, after, s);
                    Double sum = delta(before, after, new Series(STEP_SUM, s.labels()));
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("url", after.url());
                    m.put("pool", s.labels().get("pool"));
                    m.put("steps", count);
                    m.put("mean_step_ms", ratio(sum, count, 1000, 3));
                    out.add(m);
                });
        return out;
    }

    /**
     * A counter's increase between the scrapes; null when the after-scrape lacks it. A series new
     * since before counts from 0, and one that went down (its process restarted between the
     * scrapes) counts its after value, as Prometheus's increase() does.
     */
    static Double delta(Scrape before, Scrape after, Series s) {
        Double a = after.values().get(s);
        if (a == null) {
            return null;
        }
        Double b = before.values().get(s);
        return b == null || a < b ? a : a - b;
    }

    private static Double ratio(Double num, Double den, double scale, int digits) {
        return num == null || den == null || den == 0 ? null : round(scale * num / den, digits);
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
