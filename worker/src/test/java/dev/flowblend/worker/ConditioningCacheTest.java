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
        c.putIfAbsent("orch", "a", ByteString.copyFromUtf8("ctx"));
        now.addAndGet(TimeUnit.SECONDS.toNanos(9));
        assertEquals("ctx", c.get("a").toStringUtf8());
        now.addAndGet(TimeUnit.SECONDS.toNanos(9));  // access reset the idle clock
        assertEquals("ctx", c.get("a").toStringUtf8());
        now.addAndGet(TimeUnit.SECONDS.toNanos(11));
        assertNull(c.get("a"));
    }

    @Test
    void put_overByteBudget_evictsSoTotalStaysWithinBudget() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(1000, 60, 1000), ticker);
        for (int i = 0; i < 10; i++) {
            c.putIfAbsent("orch", "k" + i, ByteString.copyFrom(new byte[300]));
        }
        c.cleanUp();
        assertEquals(3, c.size());
    }

    @Test
    void get_cacheDisabled_alwaysMiss() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(0, 60), ticker);
        c.putIfAbsent("orch", "a", ByteString.copyFromUtf8("x"));
        assertNull(c.get("a"));
    }

    @Test
    void putIfAbsent_oneCallerPastItsBudget_evictsItsOwnOldestNeverAnotherCallers() {
        // 10,000 bytes in all, 3,000 per caller; entries weigh 1,000 (id) + ... bytes
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(10_000, 60, 3_000), ticker);
        ByteString kb = ByteString.copyFrom(new byte[998]);  // + a 2-char id = 1,000 bytes
        assertEquals(true, c.putIfAbsent("orch-a", "a1", kb));
        assertEquals(true, c.putIfAbsent("orch-a", "a2", kb));
        for (int i = 0; i < 50; i++) {  // orch-b churns through 50 contexts
            c.putIfAbsent("orch-b", String.format("%02d", i), kb);
        }
        c.cleanUp();
        assertEquals(2_000, c.callerBytes("orch-a"));
        assertEquals(3_000, c.callerBytes("orch-b"));
        assertEquals(kb, c.get("a1"), "orch-b's churn left orch-a's entries");
        assertEquals(kb, c.get("a2"));
        assertNull(c.get("46"), "orch-b keeps only its newest three");
        assertEquals(kb, c.get("47"));
        assertEquals(kb, c.get("49"));
    }

    @Test
    void putIfAbsent_entryLargerThanTheCallersBudget_notStored() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(10_000, 60, 500), ticker);
        assertEquals(false, c.putIfAbsent("orch", "big", ByteString.copyFrom(new byte[600])));
        assertNull(c.get("big"));
        assertEquals(0, c.callerBytes("orch"));
    }

    @Test
    void remove_andExpiry_giveTheBytesBackToTheCallersBudget() {
        ConditioningCache c = new ConditioningCache(new WorkerConfig.ContextCache(10_000, 10, 5_000), ticker);
        c.putIfAbsent("orch", "a", ByteString.copyFrom(new byte[99]));
        c.putIfAbsent("orch", "b", ByteString.copyFrom(new byte[99]));
        assertEquals(200, c.callerBytes("orch"));
        c.remove("a");
        assertEquals(100, c.callerBytes("orch"));
        now.addAndGet(TimeUnit.SECONDS.toNanos(11));
        c.cleanUp();
        assertEquals(0, c.callerBytes("orch"));
    }
}
