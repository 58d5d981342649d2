package dev.flowblend.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/capacity/clusters.json: every derived value follows its stated rule, and what does not fit is refused. */
class ClustersTest {
    private static final Clusters CLUSTERS = Clusters.read(Docs.file("clusters.json"));

    /** Derived step times are the H200 measurement (or estimate) x 989 / the GPU's dense BF16 TFLOPS, rounded. */
    @Test
    void derivedTimes_followTheDenseBf16Rule() {
        Clusters.Gpu ref = CLUSTERS.gpus().get("H200");
        int derived = 0;
        for (Map.Entry<String, Clusters.Gpu> g : CLUSTERS.gpus().entrySet()) {
            for (Map.Entry<String, Clusters.Sourced> m : g.getValue().msPerSample().entrySet()) {
                if (!m.getValue().source().startsWith("derived")) {
                    continue;
                }
                derived++;
                double rule = ref.msPerSample().get(m.getKey()).value() * ref.denseBf16Tflops().value()
                        / g.getValue().denseBf16Tflops().value();
                assertEquals(rule, m.getValue().value(), 0.5, g.getKey() + " " + m.getKey());
            }
        }
        assertEquals(14, derived);
        assertTrue(ref.msPerSample().get("velocity-large").source().startsWith("measured"));
        assertEquals(3600, 2 * ref.msPerSample().get("velocity-large").value(), 0.0);
        assertEquals(600, 2 * ref.msPerSample().get("velocity-small").value(), 0.0);
    }

    /** 24 GB GPUs hold the 1.3B model, never the 14B one. */
    @Test
    void twentyFourGigabyteGpus_haveNoLargeModel(@TempDir Path dir) throws Exception {
        CLUSTERS.gpus().forEach((name, g) -> {
            if (g.memoryGb() != null && g.memoryGb() <= 24) {
                assertFalse(g.msPerSample().containsKey("velocity-large"), name);
                assertTrue(g.msPerSample().containsKey("velocity-small"), name);
            }
        });
        String json = Files.readString(Docs.file("clusters.json"))
                .replace("{\"name\": \"H100 + L4\", \"large\": \"H100\"", "{\"name\": \"H100 + L4\", \"large\": \"L4\"");
        Path f = Files.writeString(dir.resolve("clusters.json"), json);
        String m = assertThrows(IllegalArgumentException.class, () -> Clusters.read(f)).getMessage();
        assertTrue(m.startsWith(f + ": clusters[0].large is 'L4', which has no velocity-large in gpus.L4.ms_per_sample"), m);
    }

    @Test
    void missingSource_refusedNamingTheValue(@TempDir Path dir) throws Exception {
        String json = Files.readString(Docs.file("clusters.json")).replaceFirst(
                "\"value\": 4.59, \"source\": \"[^\"]*\"", "\"value\": 4.59, \"source\": \"\"");
        Path f = Files.writeString(dir.resolve("clusters.json"), json);
        String m = assertThrows(IllegalArgumentException.class, () -> Clusters.read(f)).getMessage();
        assertEquals(f + ": gpus.H200.price_per_hour.source is missing; every input states its source", m);
    }

    /** The example costs file is the "H100 + L4" cluster, value for value. */
    @Test
    void wanCostsExample_matchesItsCluster() {
        Costs example = Costs.read(Docs.file("wan-h100-l4.json"));
        Costs cluster = CLUSTERS.costs(0);
        assertEquals("H100 + L4", cluster.description());
        assertEquals(cluster.pools().keySet(), example.pools().keySet());
        cluster.pools().forEach((name, p) -> {
            assertEquals(p.pricePerHour(), example.pools().get(name).pricePerHour(), name);
            assertEquals(p.models(), example.pools().get(name).models(), name);
        });
        assertEquals(java.util.Arrays.asList(cluster.plan().resolve()), java.util.Arrays.asList(example.plan().resolve()));
        OrchestratorCosts a = cluster.orchestrator();
        OrchestratorCosts b = example.orchestrator();
        assertEquals(a.withLimits(1, 1), b.withLimits(1, 1));
    }

    /** A few planned volumes, cheaply: FlowBlending on H100 + L4 costs less a video than large-only on H100. */
    @Test
    void flowBlendingOnAMixedCluster_cheaperThanLargeOnly() {
        Planner.Options o = new Planner.Options(800, 100, 1, 200, CLUSTERS.maxUtilisation());
        double rate = Clusters.perSecond(10_000);
        Planner.Placement mixed = Planner.plan(CLUSTERS.costs(0), rate, CLUSTERS.sloP95S(), o).best();
        Planner.Placement large = Planner.plan(CLUSTERS.costs(3), rate, CLUSTERS.sloP95S(), o).best();
        assertTrue(mixed.dollarsPerVideo() < large.dollarsPerVideo(), mixed + " vs " + large);
        // the closed-form floor: 30 steps x 3.6 s of H100 and 20 x 4.904 s of L4 a video at full utilisation
        double floor = (30 * 3.6 * 3.49 + 20 * 4.904 * 0.44) / 3600;
        assertTrue(mixed.dollarsPerVideo() > floor && mixed.dollarsPerVideo() < 1.25 * floor, mixed.toString());
    }
}
