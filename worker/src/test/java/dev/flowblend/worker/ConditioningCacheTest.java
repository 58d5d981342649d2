package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.ByteString;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConditioningCacheTest {
    private final AtomicLong now = new AtomicLong();
    private final Ticker ticker = now::get;

    @Test
    void get_afterIdleLongerThanTtl_missAndWithinTtl_hit() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(1 << 20, 10), ticker);
        c.put("a", ByteString.copyFromUtf8("ctx"));
        now.addAndGet(TimeUnit.SECONDS.toNanos(9));
        assertEquals("ctx", c.get("a").toStringUtf8());
        now.addAndGet(TimeUnit.SECONDS.toNanos(9));  // access reset the idle clock
        assertEquals("ctx", c.get("a").toStringUtf8());
        now.addAndGet(TimeUnit.SECONDS.toNanos(11));
        assertNull(c.get("a"));
    }

    @Test
    void put_overByteBudget_evictsSoTotalStaysWithinBudget() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(1000, 60), ticker);
        for (int i = 0; i < 10; i++) {
            c.put("k" + i, ByteString.copyFrom(new byte[300]));
        }
        c.cleanUp();
        assertEquals(3, c.size());
    }

    @Test
    void get_cacheDisabled_alwaysMiss() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(0, 60), ticker);
        c.put("a", ByteString.copyFromUtf8("x"));
        assertNull(c.get("a"));
    }
}
