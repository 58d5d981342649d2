package dev.flowblend.capacity;

import static dev.flowblend.capacity.Fixtures.model;
import static dev.flowblend.capacity.Fixtures.pool;
import static dev.flowblend.capacity.Fixtures.pools;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The simulator against closed forms: each check fails if the policy it models is changed. */
class SimulationTest {

    /** One client alone: its latency is the plain sum of every service time, to the millisecond. */
    @Test
    void closedLoopOfOne_latencyIsTheSumOfServiceTimesExactly() {
        Costs c = new Costs("sum", PlanSpec.preset("flowblending", 50), true,
                pools("large", pool(1, 4, "velocity-large", model(5, 20, 32), Costs.TEXT_ENCODER, model(3, 7, 8),
                                Costs.DECODER, model(11, 13, 1)),
                        "small", pool(1, 1, "velocity-small", model(2, 4, 32))),
                "large", "large", new OrchestratorCosts(1.0, 17.0, 1, 4, 64, 0.0, 0.0));
        // text: 2 contexts x (3 + 7); large: 30 steps x (1 + 5 + 2 x 20); small: 20 x (1 + 2 + 2 x 4);
        // decode 11 + 13; encode 17
        double expectedMs = 2 * 10 + 30 * 46 + 20 * 11 + 24 + 17;
        SimResult r = Simulation.run(c, Load.closed(1).count(5).warmup(0));
        assertEquals(5, r.completed());
        assertEquals(expectedMs / 1000, r.latencyP50S(), 0.0);
        assertEquals(expectedMs / 1000, r.latencyP99S(), 0.0);
        assertEquals(expectedMs / 1000, r.latencyMaxS(), 0.0);
        assertEquals(0.0, r.admissionWaitMeanS(), 0.0);
        assertEquals(1000 / expectedMs, r.throughputPerS(), 1e-12);
        // alone, every batch is one call: a guided step's 2 samples, one context, one latent
        assertEquals(2.0, r.models().get("velocity-large").meanBatchSamples(), 0.0);
        assertEquals(1.0, r.models().get(Costs.TEXT_ENCODER).meanBatchSamples(), 0.0);
    }

    /** The prompt cache skips text-encoder calls: with both contexts cached, none runs. */
    @Test
    void promptCacheHits_skipTheTextEncoder() {
        Costs c = new Costs("cached", PlanSpec.preset("large-only", 4), true,
                pools("large", pool(1, 4, "velocity-large", model(0, 10, 32), Costs.TEXT_ENCODER, model(0, 100, 8),
                        Costs.DECODER, model(0, 1, 1))),
                "large", "large", new OrchestratorCosts(0.0, 0.0, 1, 4, 64, 1.0, 1.0));
        SimResult r = Simulation.run(c, Load.closed(1).count(3).warmup(0));
        assertEquals((4 * 20 + 1) / 1000.0, r.latencyP50S(), 0.0);
        assertEquals(0, r.models().get(Costs.TEXT_ENCODER).batches());
    }

    /**
     * One worker, batches of one, Poisson arrivals: an M/D/1 queue, whose mean wait is
     * Pollaczek-Khinchine's rho * D / (2 (1 - rho)). Compared at the utilisation the run
     * realised (its arrivals are a sample: at rho 0.8 they alone move the wait by a few %), which
     * must itself be the offered one.
     */
    @Test
    void oneWorkerNoBatchingPoisson_meanWaitMatchesPollaczekKhinchine() {
        double serviceMs = 100;
        for (double rho : new double[] {0.5, 0.8, 0.9}) {
            double rate = rho / (serviceMs / 1000);
            SimResult r = Simulation.run(Fixtures.oneStep(serviceMs, 1), Load.open(rate).count(200_000).warmup(2000));
            double realised = r.pools().get("large").utilisation();
            assertEquals(rho, realised, 0.01, "rho " + rho);
            double expected = realised * serviceMs / 1000 / (2 * (1 - realised));
            double got = r.pools().get("large").meanQueueWaitS();
            assertEquals(expected, got, 0.03 * expected, "rho " + rho);
            assertEquals(got + serviceMs / 1000, r.latencyMeanS(), 1e-9, "rho " + rho);
            assertEquals(rate, r.throughputPerS(), 0.02 * rate, "rho " + rho);
        }
    }

    /** Saturated by a closed loop: throughput = workers / work per video of the bottleneck pool. */
    @Test
    void saturation_throughputIsBottleneckWorkersOverWorkPerVideo() {
        // 50 steps: large 30 x 10 ms over 2 workers = 150 ms a video, small 20 x 30 ms over 1 = 600 ms
        Costs c = Fixtures.twoPools(50, 2, 10, 1, 30, 1, 1);
        SimResult r = Simulation.run(c, Load.closed(64).count(4000));
        assertEquals(1 / 0.600, r.throughputPerS(), 0.02 / 0.600);
        assertEquals(1.0, r.pools().get("small").utilisation(), 0.01);
        assertEquals(0.25, r.pools().get("large").utilisation(), 0.02);
        // add small workers and the large pool becomes the bottleneck: 2 / 300 ms
        SimResult more = Simulation.run(Fixtures.twoPools(50, 2, 10, 8, 30, 1, 1), Load.closed(64).count(4000));
        assertEquals(2 / 0.300, more.throughputPerS(), 0.02 * 2 / 0.300);
    }

    /** A fixed cost per batch and none per sample: batches grow with the load. */
    @Test
    void batching_fixedCostOnly_batchesGrowWithLoad() {
        Costs c = new Costs("batch", PlanSpec.preset("large-only", 10), true,
                pools("large", pool(1, 1, "velocity-large", model(50, 0.001, 64)), "aux", Fixtures.freeAux()),
                "aux", "aux", Fixtures.unlimited());
        double last = 0;
        for (int clients : new int[] {1, 4, 16}) {
            double b = Simulation.run(c, Load.closed(clients).count(400)).models().get("velocity-large").meanBatchSamples();
            assertTrue(b > last, clients + " clients: mean batch " + b + " after " + last);
            last = b;
        }
        // 16 clients: the device starts the next batch before the replies' next steps arrive, so
        // the first of them runs alone and the other 15 together (no queue delay: nobody waits)
        assertEquals(16.0, last, 0.5);
        // a queue delay lets the first wait for the rest: all 16 steps in one batch
        Costs delayed = c.withPools(pools("large", pool(1, 1, "velocity-large", new ModelCosts(50.0, 0.001, 64, 1.0)),
                "aux", Fixtures.freeAux()));
        assertEquals(32.0, Simulation.run(delayed, Load.closed(16).count(400)).models().get("velocity-large")
                .meanBatchSamples(), 0.5);
        // max_batch_size caps the batch: two steps of 2 samples
        Costs capped = c.withPools(pools("large", pool(1, 1, "velocity-large", model(50, 0.001, 4)), "aux", Fixtures.freeAux()));
        assertEquals(4.0, Simulation.run(capped, Load.closed(16).count(400)).models().get("velocity-large")
                .meanBatchSamples(), 0.0);
    }

    /** Beyond max_concurrent running and max_queued waiting, requests are refused, never queued. */
    @Test
    void admission_refusesBeyondTheQueue() {
        Costs c = Fixtures.oneStep(100, 1).withOrchestrator(Fixtures.unlimited().withLimits(2, 3));
        SimResult r = Simulation.run(c, Load.open(100).count(500));
        assertTrue(r.refused() > 300, "refused " + r.refused());
        assertEquals(500, r.completed() + r.refused());
        assertEquals(0, r.unfinished());
        assertEquals(2, r.peakRunning());
        assertEquals(3, r.peakQueued());
        // one worker serialises the two running generations: at most 10 videos/s
        assertTrue(r.throughputPerS() <= 10.0 + 1e-9 && r.throughputPerS() > 9.0, "throughput " + r.throughputPerS());
        assertTrue(r.admissionWaitMeanS() > 0);
    }

    @Test
    void sameSeed_sameNumbers_otherSeed_otherNumbers() {
        Costs c = Fixtures.twoPools(20, 2, 10, 1, 12, 1, 1);
        SimResult a = Simulation.run(c, Load.open(4).count(1500).seed(7));
        SimResult b = Simulation.run(c, Load.open(4).count(1500).seed(7));
        assertEquals(a, b);
        SimResult other = Simulation.run(c, Load.open(4).count(1500).seed(8));
        assertNotEquals(a.latencyP95S(), other.latencyP95S());
    }

    /** A run bounded by simulated time ends there, counting what was still in flight. */
    @Test
    void maxSimulatedTime_endsTheRunAndCountsTheUnfinished() {
        SimResult r = Simulation.run(Fixtures.oneStep(100, 1), Load.open(20).count(100_000).maxSimulatedS(60));
        assertTrue(r.simulatedS() <= 60.0, "simulated " + r.simulatedS());
        assertTrue(r.unfinished() > 0 && r.issued() < 100_000, r.toString());
        assertEquals(r.issued(), r.completed() + r.refused() + r.unfinished());
    }
}
