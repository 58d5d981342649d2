package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
    private final List<ManagedChannel> channels = new ArrayList<>();

    private Endpoint endpoint(String address) {
        return new Endpoint(address, channel(address), null, false);
    }

    private ManagedChannel channel(String address) {
        ManagedChannel c = InProcessChannelBuilder.forName(address).build();
        channels.add(c);
        return c;
    }

    private static List<String> addresses(WorkerPool p) {
        return p.endpoints().stream().map(Endpoint::address).toList();
    }

    @Test
    void refresh_dnsAnswerChanges_endpointsFollowAndSurvivorsKept() {
        List<List<String>> answers = new ArrayList<>(List.of(List.of("10.0.0.1:8001"),
                List.of("10.0.0.1:8001", "10.0.0.2:8001"), List.of("10.0.0.2:8001")));
        WorkerPool pool = new WorkerPool(new OrchestratorConfig.PoolConfig("small", "velocity-small", null,
                "small-workers.flowblend.svc:8001", 0), this::endpoint, host -> answers.remove(0));
        assertEquals(List.of("10.0.0.1:8001"), addresses(pool));
        Endpoint first = pool.endpoints().get(0);
        pool.refresh();
        assertEquals(List.of("10.0.0.1:8001", "10.0.0.2:8001"), addresses(pool));
        assertSame(first, pool.endpoints().get(0), "an endpoint that stays keeps its channel and state");
        pool.refresh();
        assertEquals(List.of("10.0.0.2:8001"), addresses(pool));
        pool.close();
    }

    @Test
    void refresh_lookupFails_keepsCurrentEndpoints() {
        boolean[] fail = {false};
        WorkerPool pool = new WorkerPool(new OrchestratorConfig.PoolConfig("large", "velocity-large", null,
                "large.svc:8001", 0), this::endpoint, host -> {
                    if (fail[0]) {
                        throw new UnknownHostException(host);
                    }
                    return List.of("10.0.0.9:8001");
                });
        fail[0] = true;
        pool.refresh();
        assertEquals(List.of("10.0.0.9:8001"), addresses(pool));
        assertEquals("large.svc:8001", pool.dnsError());
        pool.refresh();  // the lookup keeps failing: the first reason stands (it is what was logged)
        assertEquals("large.svc:8001", pool.dnsError());
        fail[0] = false;
        pool.refresh();
        assertNull(pool.dnsError());
        pool.close();
    }

    @Test
    void pick_leastInflightHealthyFirst_thenUnhealthyAsLastResort() {
        WorkerPool pool = new WorkerPool(new OrchestratorConfig.PoolConfig("small", "velocity-small",
                List.of("a:1", "b:1", "c:1"), null, 0), this::endpoint, WorkerPool.Resolver.SYSTEM);
        Endpoint a = pool.endpoints().get(0), b = pool.endpoints().get(1), c = pool.endpoints().get(2);
        a.acquire();
        a.acquire();
        b.acquire();
        assertSame(c, pool.pick(Set.of()));
        c.markUnhealthy("test");
        assertSame(b, pool.pick(Set.of()));
        assertSame(a, pool.pick(Set.of(b)));
        assertSame(c, pool.pick(Set.of(a, b)), "an unhealthy endpoint is tried when nothing else is left");
        assertNull(pool.pick(Set.of(a, b, c)));
        pool.close();
    }
}
