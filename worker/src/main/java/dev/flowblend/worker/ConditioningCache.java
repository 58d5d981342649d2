package dev.flowblend.worker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.ByteString;
import java.time.Duration;

/**
 * Conditioning tensors (text contexts) by client-chosen id, bounded by bytes and idle time, so a
 * generation sends its context to a worker once and then refers to it by id. Thread-safe.
 */
final class ConditioningCache {
    private final Cache<String, ByteString> cache;
    private final boolean enabled;

    ConditioningCache(WorkerConfig.ContextCache config, Ticker ticker) {
        this.enabled = config.maxBytes() > 0;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, config.maxBytes()))
                .weigher((String k, ByteString v) -> k.length() + v.size())
                .expireAfterAccess(Duration.ofSeconds(config.expireAfterAccessSeconds()))
                .ticker(ticker)
                .recordStats()
                .build();
    }

    void put(String id, ByteString bytes) {
        if (enabled) {
            cache.put(id, bytes);
        }
    }

    /** Stores {@code bytes} unless {@code id} is cached already; true when this call stored it. */
    boolean putIfAbsent(String id, ByteString bytes) {
        return enabled && cache.asMap().putIfAbsent(id, bytes) == null;
    }

    void remove(String id) {
        cache.invalidate(id);
    }

    /** The cached bytes, or null on a miss (evicted, expired, or never sent). */
    ByteString get(String id) {
        return enabled ? cache.getIfPresent(id) : null;
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
