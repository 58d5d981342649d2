package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void bucket_flowblendingPools_firstStepOfEachLaterSegmentIsAfterSwitch() {
        List<String> pools = new ArrayList<>();
        for (int k = 0; k < 10; k++) {
            pools.add(k < 4 || k >= 8 ? "large" : "small");
        }
        String[] previous = {null};
        List<String> buckets = pools.stream().map(p -> BenchCommand.bucket(p, previous)).toList();
        assertEquals(List.of("large", "large", "large", "large", "small after switch", "small", "small", "small",
                "large after switch", "large"), buckets);
    }

    @Test
    void bucket_onePool_neverAfterSwitch() {
        String[] previous = {null};
        for (int k = 0; k < 5; k++) {
            assertEquals("large", BenchCommand.bucket("large", previous));
        }
    }
}
