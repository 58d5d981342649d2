package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.flowblend.proto.RawCall;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bounded network fuzzing of a real orchestrator with a large and a small worker, all on loopback
 * sockets (Netty): fuzzed Generate and Cancel calls, structured requests, raw bytes through a
 * byte-array marshaller, and invalid UTF-8 in the prompt. An accepted generation is cancelled at
 * its first event. Invariants: no status INTERNAL or UNKNOWN; malformed bytes end INVALID_ARGUMENT;
 * a request the orchestrator's own validation refuses ends INVALID_ARGUMENT, never OK; health
 * SERVING throughout; used heap after GC within {@link #HEAP_GROWTH_BOUND} of what it was at start.
 */
class OrchestratorNetworkFuzzTest {
    private static final Set<Status.Code> ALLOWED = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED, Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS);
    /**
     * What the run may retain: the prompt cache (4096 contexts of 2 x 16 x 64 floats, 32 MiB) and
     * the workers' conditioning caches, which hold no more than the prompts accepted (each 4 KiB);
     * 64 MiB on top covers the transport's pooled buffers and heap noise between GCs.
     */
    static final long HEAP_GROWTH_BOUND = (32L << 20) + (64L << 20);
    private static final int CHECK_EVERY = 500;
    private static final MethodDescriptor<byte[], byte[]> GENERATE = RawCall.bytes(GenerationServiceGrpc.getGenerateMethod());
    private static final MethodDescriptor<byte[], byte[]> CANCEL = RawCall.bytes(GenerationServiceGrpc.getCancelMethod());

    private static TestCluster cluster;
    private static GenerationRequests requests;
    private static long baselineHeap;
    private static int inputs;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(true, 1, List.of(), null);
        requests = FuzzedGenerateRequests.parser(TestCluster.FAMILY);
        baselineHeap = usedHeapAfterGc();
    }

    @AfterAll
    static void stop() {
        try {
            checkServer();
        } finally {
            cluster.close();
        }
    }

    @FuzzTest(maxDuration = "60s")
    void generate_overSockets_clientMistakesRefusedServerStaysUp(FuzzedDataProvider data) throws Exception {
        switch (data.consumeInt(0, 3)) {
            case 0 -> generate(FuzzedGenerateRequests.build(data, 3).toByteArray());
            case 1 -> generate(data.consumeRemainingAsBytes());
            case 2 -> {  // the prompt (field 1) given again as bytes that may not be UTF-8
                byte[] prompt = data.consumeBytes(24);
                byte[] r = RawCall.withLengthDelimited(FuzzedGenerateRequests.build(data, 3).toByteArray(), 1, prompt);
                RawCall.Outcome o = generate(r);
                if (!RawCall.validUtf8(prompt)) {
                    assertEquals("request is not a valid GenerateRequest: Protocol message had invalid UTF-8.",
                            o.status().getDescription());
                }
            }
            default -> {
                RawCall.Outcome o = RawCall.call(cluster.client, CANCEL, List.of(data.consumeRemainingAsBytes()), false);
                assertTrue(ALLOWED.contains(o.status().getCode()), () -> "status " + o.status());
            }
        }
        if (++inputs % CHECK_EVERY == 0) {
            checkServer();
        }
    }

    /** The escape the fuzz target was written for: it ended UNKNOWN ("Application error processing RPC"). */
    @Test
    void generate_promptNotUtf8_invalidArgumentSayingSo() throws Exception {
        byte[] r = RawCall.withLengthDelimited(new byte[0], 1, new byte[] {'a', ' ', (byte) 0xC3, (byte) 0x28});
        RawCall.Outcome o = RawCall.call(cluster.client, GENERATE, List.of(r), true);
        assertEquals(Status.Code.INVALID_ARGUMENT, o.status().getCode(), String.valueOf(o.status()));
        assertEquals("request is not a valid GenerateRequest: Protocol message had invalid UTF-8.",
                o.status().getDescription());
        assertEquals(0, o.messages());
        checkServer();
    }

    /** One Generate call; checks its outcome against the bytes' parse and the orchestrator's validation. */
    private static RawCall.Outcome generate(byte[] bytes) throws Exception {
        RawCall.Outcome o = RawCall.call(cluster.client, GENERATE, List.of(bytes), true);
        Status s = o.status();
        assertTrue(ALLOWED.contains(s.getCode()), () -> "status " + s);
        GenerateRequest r;
        try {
            r = GenerateRequest.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), String.valueOf(s));
            assertTrue(s.getDescription().startsWith("request is not a valid GenerateRequest: "), s.getDescription());
            return o;
        }
        boolean valid;
        try {
            requests.parse(r);
            valid = true;
        } catch (GenerationRequests.Invalid e) {
            valid = false;
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), () -> "for " + e.getMessage() + ": " + s);
            assertEquals(e.getMessage(), s.getDescription());
        }
        if (valid) {
            // accepted: an event came (then the test cancelled), or admission said no, or a generation id was reused
            assertTrue(o.messages() > 0 || s.getCode() == Status.Code.RESOURCE_EXHAUSTED
                    || s.getCode() == Status.Code.ALREADY_EXISTS, () -> "valid request ended " + s);
        }
        return o;
    }

    private static void checkServer() {
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, cluster.health(""));
        long used = usedHeapAfterGc();
        assertTrue(used - baselineHeap < HEAP_GROWTH_BOUND, () -> "used heap after GC grew by "
                + (used - baselineHeap) / (1 << 20) + " MiB (bound " + HEAP_GROWTH_BOUND / (1 << 20) + " MiB)");
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
