package dev.flowblend.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A process's Prometheus endpoint: one registry (with JVM and process metrics) that the process's
 * server records into, served as Prometheus text at {@code GET /metrics} by the JDK's HTTP server.
 *
 * <p>Ownership: the process's command creates it before its gRPC server and closes it after that
 * server has drained, so the last scrape still sees the drain. Scrapes run on one thread; a
 * scrape only reads the meters, so it never blocks the serving threads.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MetricsEndpoint.class.getName());
    /** The Prometheus text exposition format every Prometheus version reads. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;
    private final HttpServer http;
    private final ExecutorService executor;

    private MetricsEndpoint(PrometheusMeterRegistry registry, JvmGcMetrics gc, HttpServer http, ExecutorService executor) {
        this.registry = registry;
        this.gc = gc;
        this.http = http;
        this.executor = executor;
    }

    /**
     * Binds {@code host:port} (0: any free port) and starts serving. A port in use is an
     * IllegalArgumentException naming {@code what} (the config key) and the address.
     */
    public static MetricsEndpoint start(String host, int port, String what) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Two of Micrometer's process meters come out under names `promtool check metrics` rejects
        // (process_cpu_time_ns_total: an abbreviated unit; system_cpu_count: a gauge ending in _count);
        // process_cpu_usage and jvm_* cover the same ground.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (BindException e) {
            gc.close();
            throw new IllegalArgumentException(what + " " + port + " on " + host + " is not free (" + e.getMessage()
                    + "); choose another port", e);
        } catch (IOException e) {
            gc.close();
            throw new IllegalArgumentException(what + " " + port + " on " + host + ": cannot listen: " + e, e);
        }
        ExecutorService executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(64),
                r -> {
                    Thread t = new Thread(r, "metrics-http");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.DiscardPolicy());
        http.setExecutor(executor);
        MetricsEndpoint endpoint = new MetricsEndpoint(registry, gc, http, executor);
        http.createContext("/metrics", endpoint::serve);
        http.start();
        LOG.info(Event.of("metrics_listening").with("address", host + ":" + endpoint.port()).with("path", "/metrics")
                .toString());
        return endpoint;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    /** Stops serving (a scrape in progress gets up to one second), then closes the registry. */
    @Override
    public void close() {
        http.stop(1);
        executor.shutdownNow();
        gc.close();
        registry.close();
    }
}
