package dev.flowblend.worker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Conditioning tensors (text contexts) by content id, bounded by bytes and idle time, so a
 * generation sends its context to a worker once and then refers to it by id. The caller verifies
 * that an id names its bytes before storing ({@link InferRequests}), so an entry is the same
 * whoever stored it and is shared.
 *
 * <p>Each caller (an orchestrator's certificate identity, or a plaintext peer's address) holds at
 * most {@code max_bytes_per_caller} of it: a caller past its budget makes room by evicting its own
 * oldest entries, so one caller's churn cannot push out what the others stored.
 *
 * <p>Thread-safe. A caller's stores are serialized on its ledger; evictions the cache makes itself
 * reach the ledger through Caffeine's synchronous eviction listener, which takes no lock of ours.
 */
final class ConditioningCache {
    private record Entry(ByteString bytes, String owner) {
    }

    /** What one caller has stored: its bytes, and its ids oldest first (ids evicted since may linger). */
    private static final class Ledger {
        final AtomicLong bytes = new AtomicLong();
        final ArrayDeque<String> order = new ArrayDeque<>();
    }

    private final Cache<String, Entry> cache;
    private final Map<String, Ledger> ledgers = new ConcurrentHashMap<>();
    private final boolean enabled;
    private final long perCaller;

    ConditioningCache(WorkerConfig.ContextCache config, Ticker ticker) {
        this.enabled = config.maxBytes() > 0;
        this.perCaller = config.maxBytesPerCaller();
        this.cache = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, config.maxBytes()))
                .weigher((String k, Entry v) -> weight(k, v.bytes()))
                .expireAfterAccess(Duration.ofSeconds(config.expireAfterAccessSeconds()))
                .evictionListener((String k, Entry v, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
                    if (k != null && v != null) {
                        ledger(v.owner()).bytes.addAndGet(-weight(k, v.bytes()));
                    }
                })
                .ticker(ticker)
                .recordStats()
                .build();
    }

    private static int weight(String id, ByteString bytes) {
        return id.length() + bytes.size();
    }

    private Ledger ledger(String caller) {
        return ledgers.computeIfAbsent(caller, c -> new Ledger());
    }

    /**
     * Stores {@code bytes} for {@code caller} unless {@code id} is cached already or the entry alone
     * exceeds the caller's budget; evicts the caller's own oldest entries to stay within it.
     *
     * @return true when this call stored it
     */
    boolean putIfAbsent(String caller, String id, ByteString bytes) {
        int w = weight(id, bytes);
        if (!enabled || w > perCaller || cache.asMap().containsKey(id)) {
            return false;
        }
        Ledger l = ledger(caller);
        synchronized (l) {
            while (l.bytes.get() + w > perCaller && !l.order.isEmpty()) {
                remove(l.order.pollFirst());
            }
            if (cache.asMap().putIfAbsent(id, new Entry(bytes, caller)) != null) {
                return false;
            }
            l.bytes.addAndGet(w);
            l.order.addLast(id);
            if (l.order.size() > 1024 + 2 * cache.estimatedSize()) {
                l.order.removeIf(k -> !cache.asMap().containsKey(k));  // ids the cache evicted on its own
            }
            return true;
        }
    }

    void remove(String id) {
        Entry e = cache.asMap().remove(id);
        if (e != null) {
            ledger(e.owner()).bytes.addAndGet(-weight(id, e.bytes()));
        }
    }

    /** The cached bytes, or null on a miss (evicted, expired, or never sent). */
    ByteString get(String id) {
        Entry e = enabled ? cache.getIfPresent(id) : null;
        return e == null ? null : e.bytes();
    }

    /** Bytes {@code caller}'s entries take now. */
    long callerBytes(String caller) {
        Ledger l = ledgers.get(caller);
        return l == null ? 0 : l.bytes.get();
    }

    void cleanUp() {
        cache.cleanUp();
    }

    long size() {
        return cache.estimatedSize();
    }

    long weightedBytes() {
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    long hits() {
        return cache.stats().hitCount();
    }

    long misses() {
        return cache.stats().missCount();
    }

    long evictions() {
        return cache.stats().evictionCount();
    }
}
