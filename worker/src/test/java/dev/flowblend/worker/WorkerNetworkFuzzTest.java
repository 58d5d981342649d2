package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.flowblend.proto.RawCall;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bounded network fuzzing of a real worker over loopback sockets (Netty): fuzzed ModelInfer and
 * ModelStreamInfer calls, structured requests, raw bytes through a byte-array marshaller, and
 * invalid UTF-8 in a string field. Invariants: no status INTERNAL or UNKNOWN; malformed bytes end
 * INVALID_ARGUMENT; no OK for a request the worker's own validation refuses; health SERVING
 * throughout; used heap after GC within {@link #HEAP_GROWTH_BOUND} of what it was at start.
 */
class WorkerNetworkFuzzTest {
    /** Status codes a client's mistake (or a full queue) may get; never INTERNAL or UNKNOWN. */
    private static final Set<Status.Code> ALLOWED = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
            Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.UNIMPLEMENTED);
    /**
     * What the run may retain: the conditioning cache is capped at {@link #CACHE_BYTES}; every
     * other structure a request touches is freed when its call ends. 64 MiB on top covers the
     * transport's pooled buffers and heap noise between GCs.
     */
    static final long CACHE_BYTES = 8L << 20;
    static final long HEAP_GROWTH_BOUND = CACHE_BYTES + (64L << 20);
    private static final int CHECK_EVERY = 500;

    private static WorkerServer server;
    private static ManagedChannel channel;
    private static List<ModelEntry> hosted;
    private static long baselineHeap;
    private static int inputs;

    private static final MethodDescriptor<byte[], byte[]> INFER = RawCall.bytes(GRPCInferenceServiceGrpc.getModelInferMethod());
    private static final MethodDescriptor<byte[], byte[]> STREAM =
            RawCall.bytes(GRPCInferenceServiceGrpc.getModelStreamInferMethod());

    @BeforeAll
    static void start() throws Exception {
        ModelFamily family = ModelFamily.load(ModelFamily.defaultDirectory());
        WorkerConfig config = WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(InferRequestsFuzzTest.MAX_BATCH, 0, 256));
        config = new WorkerConfig(config.name(), config.role(), "127.0.0.1", 0, null, config.models(), config.runtime(),
                config.batching(), new WorkerConfig.ContextCache(CACHE_BYTES, 600), 0, 5, 0, null, null,
                WorkerConfig.Security.PLAINTEXT);
        server = new WorkerServer(config, family, NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))
                .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
        hosted = config.models().stream().map(m -> family.byName(m).orElseThrow()).toList();
        baselineHeap = usedHeapAfterGc();
    }

    @AfterAll
    static void stop() {
        try {
            checkServer();
        } finally {
            channel.shutdownNow();
            server.close();
        }
    }

    @FuzzTest(maxDuration = "60s")
    void modelInfer_overSockets_clientMistakesRefusedServerStaysUp(FuzzedDataProvider data) throws Exception {
        ModelEntry spec = hosted.get(data.consumeInt(0, hosted.size() - 1));
        switch (data.consumeInt(0, 3)) {
            case 0 -> {  // a structured request, unary
                ModelInferRequest r = FuzzedInferRequests.build(data, spec, InferRequestsFuzzTest.MAX_BATCH);
                RawCall.Outcome o = RawCall.call(channel, INFER, List.of(r.toByteArray()), false);
                assertAllowed(o.status());
                if (o.status().isOk()) {
                    assertTrue(validLocally(r), "OK for a request the worker's validation refuses: " + r);
                }
            }
            case 1 -> {  // raw bytes, unary
                byte[] bytes = data.consumeRemainingAsBytes();
                RawCall.Outcome o = RawCall.call(channel, INFER, List.of(bytes), false);
                assertAllowed(o.status());
                if (!parses(bytes)) {
                    assertEquals(Status.Code.INVALID_ARGUMENT, o.status().getCode(), String.valueOf(o.status()));
                    assertTrue(o.status().getDescription().startsWith("request is not a valid ModelInferRequest: "),
                            o.status().getDescription());
                }
            }
            case 2 -> {  // a request whose model_name (field 1) is given again, as bytes that may not be UTF-8
                ModelInferRequest r = FuzzedInferRequests.build(data, spec, InferRequestsFuzzTest.MAX_BATCH);
                byte[] name = data.consumeBytes(8);
                RawCall.Outcome o = RawCall.call(channel, INFER, List.of(RawCall.withLengthDelimited(r.toByteArray(), 1,
                        name)), false);
                assertAllowed(o.status());
                if (!RawCall.validUtf8(name)) {
                    assertEquals(Status.Code.INVALID_ARGUMENT, o.status().getCode(), String.valueOf(o.status()));
                }
            }
            default -> {  // a stream of structured requests and raw bytes
                List<byte[]> msgs = new ArrayList<>();
                boolean malformed = false;
                int n = data.consumeInt(1, 3);
                for (int i = 0; i < n; i++) {
                    byte[] m = data.consumeBoolean() ? FuzzedInferRequests.build(data, spec,
                            InferRequestsFuzzTest.MAX_BATCH).toByteArray() : data.consumeBytes(64);
                    malformed |= !parses(m);
                    msgs.add(m);
                }
                RawCall.Outcome o = RawCall.call(channel, STREAM, msgs, false);
                assertAllowed(o.status());
                if (malformed) {
                    assertEquals(Status.Code.INVALID_ARGUMENT, o.status().getCode(), String.valueOf(o.status()));
                }
            }
        }
        if (++inputs % CHECK_EVERY == 0) {
            checkServer();
        }
    }

    @Test
    void modelInfer_malformedBytesOrModelNameNotUtf8_invalidArgumentSayingSo() throws Exception {
        RawCall.Outcome bad = RawCall.call(channel, INFER, List.of(new byte[] {0x0A, 0x05, 'a'}), false);
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.status().getCode(), String.valueOf(bad.status()));
        assertTrue(bad.status().getDescription().startsWith("request is not a valid ModelInferRequest: "),
                bad.status().getDescription());
        RawCall.Outcome utf8 = RawCall.call(channel, STREAM, List.of(RawCall.withLengthDelimited(new byte[0], 1,
                new byte[] {(byte) 0xFF})), false);
        assertEquals("request is not a valid ModelInferRequest: Protocol message had invalid UTF-8.",
                utf8.status().getDescription());
        checkServer();
    }

    private static boolean parses(byte[] bytes) {
        try {
            ModelInferRequest.parseFrom(bytes);
            return true;
        } catch (InvalidProtocolBufferException e) {
            return false;
        }
    }

    /** The worker's own validation, with a fresh cache: refused only for a client's mistake. */
    private static boolean validLocally(ModelInferRequest r) {
        ModelEntry spec = hosted.stream().filter(m -> m.name().equals(r.getModelName())).findFirst().orElse(null);
        if (spec == null) {
            return false;
        }
        try {
            new InferRequests(new ConditioningCache(new WorkerConfig.ContextCache(CACHE_BYTES, 600),
                    com.github.benmanes.caffeine.cache.Ticker.systemTicker()), InferRequestsFuzzTest.MAX_BATCH,
                    ModelFamily.load(ModelFamily.defaultDirectory()).conventions().videoSizes())
                    .parse(r, new HostedModel(spec, null, HostedModel.int64Limits(spec,
                            ModelFamily.load(ModelFamily.defaultDirectory())), null), "fuzz");
            return true;
        } catch (InferException e) {
            return e.code() == Status.Code.FAILED_PRECONDITION;  // a context id the worker had cached
        }
    }

    private static void assertAllowed(Status s) {
        assertTrue(ALLOWED.contains(s.getCode()), () -> "status " + s);
        assertFalse(s.getCode() != Status.Code.OK && (s.getDescription() == null || s.getDescription().isBlank()),
                () -> "a refusal says why: " + s);
    }

    private static void checkServer() {
        HealthCheckResponse.ServingStatus h = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(GRPCInferenceServiceGrpc.SERVICE_NAME).build())
                .getStatus();
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, h);
        long used = usedHeapAfterGc();
        assertTrue(used - baselineHeap < HEAP_GROWTH_BOUND, () -> "used heap after GC grew by "
                + (used - baselineHeap) / (1 << 20) + " MiB (bound " + HEAP_GROWTH_BOUND / (1 << 20) + " MiB)");
    }

    static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
