package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadScheduleTest {

    @Test
    void poisson_sameSeedTwice_sameTimes_otherSeed_otherTimes() {
        long[] a = LoadSchedule.poisson(2.0, 42, 500, 0);
        long[] b = LoadSchedule.poisson(2.0, 42, 500, 0);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, LoadSchedule.poisson(2.0, 43, 500, 0)));
        for (int i = 1; i < a.length; i++) {
            assertTrue(a[i] >= a[i - 1], "ascending at " + i);
        }
        assertEquals(0, a[0], "arrival 0 at the point's start");
    }

    @Test
    void poisson_secondArrival_isTheFirstExponentialDrawOfRandomSeeded() {
        java.util.Random random = new java.util.Random(7);
        double first = -Math.log(1 - random.nextDouble()) / 4.0;
        double second = first - Math.log(1 - random.nextDouble()) / 4.0;
        assertArrayEquals(new long[] {0, Math.round(first * 1e9), Math.round(second * 1e9)},
                LoadSchedule.poisson(4.0, 7, 3, 0));
        assertEquals(0, LoadSchedule.poisson(4.0, 7, 0, 0).length);
    }

    @Test
    void poisson_tenThousandDraws_meanInterArrivalWithinTwoPercentOfOneOverRate() {
        double rate = 0.5;
        long[] at = LoadSchedule.poisson(rate, 1, 10_001, 0);  // 10,000 inter-arrival draws
        assertEquals(10_001, at.length);
        double mean = at[at.length - 1] / 1e9 / 10_000;
        // the mean of 10,000 exponential draws has a relative standard deviation of 1 %: 2 % is 2 sigma
        assertEquals(1 / rate, mean, 0.02 / rate, "mean inter-arrival " + mean + " s");
        // and the coefficient of variation of an exponential is 1
        double sumSq = 0;
        for (int i = 1; i < at.length; i++) {
            double d = (at[i] - at[i - 1]) / 1e9 - mean;
            sumSq += d * d;
        }
        double cv = Math.sqrt(sumSq / 10_000) / mean;
        assertEquals(1.0, cv, 0.05, "coefficient of variation " + cv);
    }

    @Test
    void poisson_doubleRate_sameDrawsHalfTheTimes() {
        long[] one = LoadSchedule.poisson(1.0, 5, 100, 0);
        long[] two = LoadSchedule.poisson(2.0, 5, 100, 0);
        for (int i = 0; i < one.length; i++) {
            assertEquals(one[i] / 2.0, two[i], 1.0, "arrival " + i);
        }
    }

    @Test
    void poisson_duration_noArrivalLater_countStillBounds() {
        long[] at = LoadSchedule.poisson(10.0, 3, 100_000, 5.0);
        assertTrue(at.length > 30 && at.length < 80, "about 50 arrivals in 5 s at 10/s, got " + at.length);
        assertTrue(at[at.length - 1] <= 5_000_000_000L);
        long[] all = LoadSchedule.poisson(10.0, 3, 100_000, 0);
        assertTrue(all[at.length] > 5_000_000_000L, "the next arrival is past the duration");
        assertEquals(3, LoadSchedule.poisson(10.0, 3, 3, 5.0).length);
    }

    @Test
    void poisson_badRate_refused() {
        assertThrows(IllegalArgumentException.class, () -> LoadSchedule.poisson(0, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> LoadSchedule.poisson(-1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> LoadSchedule.poisson(Double.NaN, 1, 1, 0));
    }

    @Test
    void order_twoPlansThreeLoads_everyLoadInTurnPlanOrderAlternating() {
        List<LoadSchedule.Slot> o = LoadSchedule.order(3, List.of("large-only", "flowblending"));
        assertEquals(List.of(
                new LoadSchedule.Slot(0, "large-only"), new LoadSchedule.Slot(0, "flowblending"),
                new LoadSchedule.Slot(1, "flowblending"), new LoadSchedule.Slot(1, "large-only"),
                new LoadSchedule.Slot(2, "large-only"), new LoadSchedule.Slot(2, "flowblending")), o);
    }

    @Test
    void order_threePlans_rotatesByOnePerLoad_onePlan_oneSlotPerLoad() {
        List<String> plans = List.of("a", "b", "c");
        assertEquals(List.of("a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"),
                LoadSchedule.order(4, plans).stream().map(LoadSchedule.Slot::plan).toList());
        assertEquals(List.of(new LoadSchedule.Slot(0, "x"), new LoadSchedule.Slot(1, "x")),
                LoadSchedule.order(2, List.of("x")));
    }
}
