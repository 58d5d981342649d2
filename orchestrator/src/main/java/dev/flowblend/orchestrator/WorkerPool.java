package dev.flowblend.orchestrator;

import dev.flowblend.telemetry.Event;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The workers of one pool. Endpoints come from a static list or from a DNS name re-resolved by
 * {@link #refresh} (a headless Service yields one address per ready pod). Each step goes to the
 * healthy endpoint with the fewest calls in flight, ties broken round-robin. Thread-safe: the
 * endpoint list is replaced atomically. Closes the endpoints it owns.
 */
final class WorkerPool implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WorkerPool.class.getName());

    /** Resolves host:port to the addresses behind it (a seam for tests). */
    interface Resolver {
        List<String> resolve(String hostPort) throws UnknownHostException;

        Resolver SYSTEM = hostPort -> {
            int i = hostPort.lastIndexOf(':');
            String host = hostPort.substring(0, i);
            String port = hostPort.substring(i + 1);
            List<String> out = new ArrayList<>();
            for (InetAddress a : InetAddress.getAllByName(host)) {
                String h = a.getHostAddress();
                out.add((h.contains(":") ? "[" + h + "]" : h) + ":" + port);
            }
            return out;
        };
    }

    private final OrchestratorConfig.PoolConfig config;
    private final Function<String, Endpoint> endpointFactory;
    private final Resolver resolver;
    private final AtomicLong turn = new AtomicLong();
    private volatile List<Endpoint> endpoints = List.of();
    private volatile String dnsError;  // the first failure of the current run of failed lookups; null once it resolves

    WorkerPool(OrchestratorConfig.PoolConfig config, Function<String, Endpoint> endpointFactory, Resolver resolver) {
        this.config = config;
        this.endpointFactory = endpointFactory;
        this.resolver = resolver;
        if (config.dns() == null) {
            update(config.endpoints());
        } else {
            refresh();
        }
    }

    String name() {
        return config.name();
    }

    String model() {
        return config.model();
    }

    List<Endpoint> endpoints() {
        return endpoints;
    }

    /**
     * Re-resolves the DNS name (no-op for static pools). A failed lookup keeps the current list
     * (health checks mark dead workers) and is logged when the name stops resolving and when it
     * resolves again, naming pool and name.
     */
    void refresh() {
        if (config.dns() == null) {
            return;
        }
        try {
            update(resolver.resolve(config.dns()));
            if (dnsError != null) {
                dnsError = null;
                LOG.info(Event.of("pool_dns_resolved").with("pool", name()).with("dns", config.dns())
                        .with("endpoints", endpoints.size()).toString());
            }
        } catch (UnknownHostException e) {
            // The JDK's negative cache answers later lookups with a shorter message: the state,
            // not the text, decides whether this is news.
            String why = String.valueOf(e.getMessage());
            if (dnsError == null) {
                dnsError = why;
                LOG.warning(Event.of("pool_dns_unresolved").with("pool", name()).with("dns", config.dns())
                        .with("error", why).with("endpoints_kept", endpoints.size()).toString());
            }
        }
    }

    /** Why the pool's DNS name did not resolve the last time, or null. */
    String dnsError() {
        return dnsError;
    }

    int healthyCount() {
        int n = 0;
        for (Endpoint e : endpoints) {
            n += e.healthy() ? 1 : 0;
        }
        return n;
    }

    int inflight() {
        int n = 0;
        for (Endpoint e : endpoints) {
            n += e.inflight();
        }
        return n;
    }

    private synchronized void update(Collection<String> addresses) {
        Map<String, Endpoint> current = new LinkedHashMap<>();
        endpoints.forEach(e -> current.put(e.address(), e));
        List<Endpoint> next = new ArrayList<>();
        for (String a : addresses) {
            Endpoint e = current.remove(a);
            next.add(e != null ? e : endpointFactory.apply(a));
        }
        List<Endpoint> before = endpoints;
        endpoints = List.copyOf(next);
        for (Endpoint e : next) {
            if (!before.contains(e)) {
                LOG.info(Event.of("endpoint_added").with("pool", name()).with("address", e.address()).toString());
            }
        }
        for (Endpoint gone : current.values()) {  // gone from DNS: finish in-flight calls, then close
            LOG.info(Event.of("endpoint_removed").with("pool", name()).with("address", gone.address())
                    .with("inflight", gone.inflight()).toString());
            gone.close();
        }
    }

    /**
     * The least-loaded healthy endpoint not in {@code exclude}; if none is healthy, the
     * least-loaded of the rest (it may have recovered since the last check). Null if none is left.
     */
    Endpoint pick(Collection<Endpoint> exclude) {
        List<Endpoint> all = endpoints;
        Endpoint best = pick(all, exclude, true);
        return best != null ? best : pick(all, exclude, false);
    }

    private Endpoint pick(List<Endpoint> all, Collection<Endpoint> exclude, boolean healthyOnly) {
        int n = all.size();
        if (n == 0) {
            return null;
        }
        int start = (int) Math.floorMod(turn.getAndIncrement(), (long) n);
        Endpoint best = null;
        for (int i = 0; i < n; i++) {
            Endpoint e = all.get((start + i) % n);
            if (exclude.contains(e) || (healthyOnly && !e.healthy())) {
                continue;
            }
            if (best == null || e.inflight() < best.inflight()) {
                best = e;
            }
        }
        return best;
    }

    void checkHealth(long timeoutMillis) {
        endpoints.forEach(e -> e.checkHealth(timeoutMillis));
    }

    @Override
    public synchronized void close() {
        endpoints.forEach(Endpoint::close);
        for (Endpoint e : endpoints) {
            try {
                e.awaitClosed(5000);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
        endpoints = List.of();
    }

    @Override
    public String toString() {
        return config.name() + endpoints;
    }
}
