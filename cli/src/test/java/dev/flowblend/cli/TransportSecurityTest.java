package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.OrchestratorServer;
import dev.flowblend.proto.generation.CancelRequest;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.security.AuthConfig;
import dev.flowblend.security.DevCertificates;
import dev.flowblend.security.TlsFiles;
import dev.flowblend.security.TokenFile;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11's transport acceptance, over real sockets: an orchestrator serving TLS with bearer
 * tokens, a large and a small worker requiring the orchestrator's client certificate. A generation
 * with TLS and a token completes; a plaintext client, a client without a token, a worker call
 * without the orchestrator's certificate (or with one from another CA), a worker certificate
 * without the name its pool is dialed by, and another token's Cancel are all refused.
 */
class TransportSecurityTest {
    private static final Logger LOG = Logger.getLogger(TransportSecurityTest.class.getName());
    private static final ModelFamily FAMILY = ModelFamily.load(ModelFamily.defaultDirectory());
    private static Path dir;
    private static DevCertificates ca;
    private static Transport largeTransport;
    private static Transport smallTransport;
    private static Transport orchestratorTransport;
    private static WorkerServer large;
    private static WorkerServer small;
    private static OrchestratorServer orchestrator;
    private static String tokenA;
    private static String tokenB;

    private static TlsFiles tls(Path d, long refresh) {
        return new TlsFiles(d.resolve("tls.crt").toString(), d.resolve("tls.key").toString(),
                d.resolve("ca.crt").toString(), refresh, null);
    }

    private static WorkerServer worker(String name, List<String> models, Transport t, WorkerConfig c) throws Exception {
        return new WorkerServer(c, FAMILY, t.server("127.0.0.1", 0), new SimpleMeterRegistry())
                .healthListener(t.health("127.0.0.1")).start();
    }

    private static WorkerConfig workerConfig(String name, List<String> models, Path certs) {
        return new WorkerConfig(name, name, "127.0.0.1", 0, null, models, RuntimeOptions.cpu(1), null, null, 0, 5, 0,
                null, null, new WorkerConfig.Security(false, tls(certs, 60), 0));
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("flowblend-tls");
        ca = DevCertificates.newCa("test-ca", Duration.ofDays(2));
        ca.writeCa(dir.resolve("ca.crt"));
        ca.issue(dir.resolve("orchestrator"), "localhost", List.of("localhost", "127.0.0.1"), true, true, Duration.ofDays(1));
        ca.issue(dir.resolve("large"), "localhost", List.of("localhost", "127.0.0.1"), true, false, Duration.ofDays(1));
        ca.issue(dir.resolve("small"), "localhost", List.of("localhost", "127.0.0.1"), true, false, Duration.ofDays(1));
        tokenA = TokenFile.newToken(new java.security.SecureRandom());
        tokenB = TokenFile.newToken(new java.security.SecureRandom());
        Path tokens = Files.writeString(dir.resolve("tokens.json"), "{\"tokens\": ["
                + "{\"name\": \"team-a\", \"sha256\": \"" + TokenFile.sha256(tokenA) + "\"},"
                + "{\"name\": \"team-b\", \"sha256\": \"" + TokenFile.sha256(tokenB) + "\"}]}");

        WorkerConfig lc = workerConfig("large", List.of("velocity-large", "text-encoder", "decoder"), dir.resolve("large"));
        WorkerConfig sc = workerConfig("small", List.of("velocity-small"), dir.resolve("small"));
        largeTransport = Transport.worker(lc);
        smallTransport = Transport.worker(sc);
        large = worker("large", lc.models(), largeTransport, lc);
        small = worker("small", sc.models(), smallTransport, sc);

        OrchestratorConfig.Security security = new OrchestratorConfig.Security(false, tls(dir.resolve("orchestrator"), 1),
                tls(dir.resolve("orchestrator"), 60), new AuthConfig(tokens.toString(), 10), 0);
        OrchestratorConfig config = new OrchestratorConfig("127.0.0.1", 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of("127.0.0.1:" + large.port()), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", List.of("127.0.0.1:" + small.port()), null, 0)),
                null, null, null, Map.of(), null, 0, 2, 0, 0, 5, null, null, null, null, security);
        orchestratorTransport = Transport.orchestrator(config);
        orchestrator = new OrchestratorServer(config, FAMILY, orchestratorTransport.server("127.0.0.1", 0),
                orchestratorTransport.workerChannels(64 << 20), new SimpleMeterRegistry())
                .healthListener(orchestratorTransport.health("127.0.0.1")).start();
        try (Plain health = new Plain(orchestrator.healthPort())) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (health.status("flowblend.v1.GenerationService") != ServingStatus.SERVING && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
        }
    }

    @AfterAll
    static void stop() {
        orchestrator.close();
        orchestratorTransport.close();
        small.close();
        large.close();
        smallTransport.close();
        largeTransport.close();
    }

    /** A plaintext channel (closed after use). */
    private record Plain(ManagedChannel channel) implements AutoCloseable {
        Plain(int port) {
            this(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build());
        }

        ServingStatus status(String service) {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
        }

        @Override
        public void close() {
            channel.shutdownNow();
        }
    }

    /** A TLS client of the orchestrator trusting the test CA, optionally presenting {@code token}. */
    private static ManagedChannel client(String token) throws Exception {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress("localhost", orchestrator.port(),
                TlsChannelCredentials.newBuilder().trustManager(dir.resolve("ca.crt").toFile()).build());
        if (token != null) {
            b.intercept(ClientOptions.bearer(token));
        }
        return b.build();
    }

    private static GenerateRequest request(String id) {
        return GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSeed(3).setSteps(10)
                .setGenerationId(id).build();
    }

    @Test
    void tlsClientWithToken_generationCompletesOnBothPools() throws Exception {
        ManagedChannel ch = client(tokenA);
        try {
            Iterator<GenerateEvent> events = GenerationServiceGrpc.newBlockingStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .generate(request("tls-ok"));
            GenerateEvent last = null;
            while (events.hasNext()) {
                last = events.next();
            }
            assertTrue(last != null && last.hasResult(), String.valueOf(last));
            Map<String, ?> served = last.getResult().getMetadata().getServedMap();
            assertTrue(served.containsKey("large") && served.containsKey("small"), served.toString());
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void generateCommand_withTlsCaAndTokenFile_writesTheVideo_withoutTheCa_saysHowItConnected() throws Exception {
        Path token = Files.writeString(dir.resolve("a.token"), tokenA + "\n");
        Path out = dir.resolve("cli.gif");
        String target = "localhost:" + orchestrator.port();
        int code = Main.run(new String[] {"generate", "--target", target, "--tls-ca", dir.resolve("ca.crt").toString(),
            "--token-file", token.toString(), "--prompt", "a red circle moving right", "--steps", "10", "--out",
            out.toString()});
        assertEquals(0, code);
        assertTrue(Files.size(out) > 0);

        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            code = Main.run(new String[] {"generate", "--target", target, "--token-file", token.toString(),
                "--prompt", "a red circle moving right", "--steps", "10", "--out", dir.resolve("no.gif").toString()});
        } finally {
            System.setErr(saved);
        }
        String said = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, code, said);
        assertTrue(said.contains("warning: sending a bearer token to " + target + " over plaintext"), said);
        assertTrue(said.contains("UNAVAILABLE: orchestrator at " + target + ": "), said);
        assertTrue(said.contains("(connected in plaintext; if the orchestrator serves TLS, give --tls-ca)"), said);
    }

    @Test
    void plaintextClient_refusedWithUnavailable() {
        try (Plain p = new Plain(orchestrator.port())) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GenerationServiceGrpc
                    .newBlockingStub(p.channel()).withDeadlineAfter(10, TimeUnit.SECONDS).generate(request("plain")).next());
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
        }
    }

    @Test
    void tlsClientWithoutToken_unauthenticated() throws Exception {
        ManagedChannel ch = client(null);
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GenerationServiceGrpc
                    .newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).generate(request("no-token")).next());
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
            assertEquals("this orchestrator requires a bearer token: send the header 'authorization: Bearer <token>'",
                    e.getStatus().getDescription());
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void otherTokensCancel_permissionDenied() throws Exception {
        ManagedChannel a = client(tokenA);
        ManagedChannel b = client(tokenB);
        try {
            Iterator<GenerateEvent> events = GenerationServiceGrpc.newBlockingStub(a).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .generate(request("owned-by-a").toBuilder().setSteps(200).build());
            assertTrue(events.next().hasAccepted());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GenerationServiceGrpc
                    .newBlockingStub(b).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .cancel(CancelRequest.newBuilder().setGenerationId("owned-by-a").build()));
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.getStatus().toString());
            GenerationServiceGrpc.newBlockingStub(a).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .cancel(CancelRequest.newBuilder().setGenerationId("owned-by-a").build());
            StatusRuntimeException own = assertThrows(StatusRuntimeException.class, () -> events.forEachRemaining(x -> { }));
            assertEquals(Status.Code.CANCELLED, own.getStatus().getCode(), own.getStatus().toString());
        } finally {
            a.shutdownNow();
            b.shutdownNow();
        }
    }

    /** A health call to the large worker's OIP port with {@code credentials}; the status it ends with. */
    private static Status.Code workerCall(io.grpc.ChannelCredentials credentials) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", large.port(), credentials).build();
        try {
            HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            LOG.info("worker call refused: " + e.getStatus());
            return e.getStatus().getCode();
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void workerCall_withoutTheOrchestratorsCertificate_refused() throws Exception {
        File caFile = dir.resolve("ca.crt").toFile();
        assertEquals(Status.Code.UNAVAILABLE, workerCall(TlsChannelCredentials.newBuilder().trustManager(caFile).build()),
                "TLS without a client certificate");
        assertEquals(Status.Code.UNAVAILABLE, workerCall(io.grpc.InsecureChannelCredentials.create()), "plaintext");
        Path rogue = dir.resolve("rogue");
        DevCertificates.newCa("rogue-ca", Duration.ofDays(1)).issue(rogue, "localhost", List.of("localhost"), true, true,
                Duration.ofDays(1));
        assertEquals(Status.Code.UNAVAILABLE, workerCall(TlsChannelCredentials.newBuilder().trustManager(caFile)
                .keyManager(rogue.resolve("tls.crt").toFile(), rogue.resolve("tls.key").toFile()).build()),
                "a client certificate from another CA");
        Path small = dir.resolve("small");
        assertEquals(Status.Code.UNAVAILABLE, workerCall(TlsChannelCredentials.newBuilder().trustManager(caFile)
                .keyManager(small.resolve("tls.crt").toFile(), small.resolve("tls.key").toFile()).build()),
                "another worker's certificate (server authentication only)");
        Path orch = dir.resolve("orchestrator");
        assertEquals(Status.Code.OK, workerCall(TlsChannelCredentials.newBuilder().trustManager(caFile)
                .keyManager(orch.resolve("tls.crt").toFile(), orch.resolve("tls.key").toFile()).build()),
                "the orchestrator's certificate");
        try (Plain health = new Plain(large.healthPort())) {
            assertEquals(ServingStatus.SERVING, health.status("inference.GRPCInferenceService"), "the health-only port");
        }
    }

    @Test
    void workerCertificateWithoutThePoolsName_refusedByTheOrchestrator() throws Exception {
        // dialed as "localhost" (a pool's dns name), the small worker's certificate names only 127.0.0.1 and other-name
        Path odd = dir.resolve("odd");
        ca.issue(odd, "other-name", List.of("other-name", "127.0.0.1"), true, false, Duration.ofDays(1));
        WorkerConfig c = workerConfig("odd", List.of("velocity-small"), odd);
        try (Transport t = Transport.worker(c)) {
            WorkerServer w = worker("odd", c.models(), t, c);
            try {
                ManagedChannel byName = orchestratorTransport.workerChannels(1 << 20).open("127.0.0.1:" + w.port(),
                        "localhost:" + w.port());
                ManagedChannel byIp = orchestratorTransport.workerChannels(1 << 20).open("127.0.0.1:" + w.port(),
                        "127.0.0.1:" + w.port());
                try {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> HealthGrpc
                            .newBlockingStub(byName).withDeadlineAfter(10, TimeUnit.SECONDS)
                            .check(HealthCheckRequest.getDefaultInstance()));
                    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                    assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(byIp).withDeadlineAfter(10,
                            TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus());
                } finally {
                    byName.shutdownNow();
                    byIp.shutdownNow();
                }
            } finally {
                w.close();
            }
        }
    }

    @Test
    void orchestratorCertificateRotated_newHandshakesGetTheNewOne() throws Exception {
        Path d = dir.resolve("orchestrator");
        BigInteger before = servedCertificate().getSerialNumber();
        long t0 = System.nanoTime();
        ca.issue(d, "localhost", List.of("localhost", "127.0.0.1"), true, true, Duration.ofDays(1));  // refresh_seconds 1
        BigInteger after = before;
        while (after.equals(before) && System.nanoTime() - t0 < 15_000_000_000L) {
            Thread.sleep(50);
            after = servedCertificate().getSerialNumber();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        LOG.info("rotation: the new certificate served after " + ms + " ms (refresh_seconds 1)");
        assertNotEquals(before, after, "the rotated certificate is served within 15 s");
    }

    /** The certificate a new TLS connection to the orchestrator is given. */
    private static X509Certificate servedCertificate() throws Exception {
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        ClientInterceptor capture = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> m, CallOptions o, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(m, o)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        super.start(new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                            @Override
                            public void onHeaders(Metadata h) {
                                try {
                                    seen.set((X509Certificate) getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)
                                            .getPeerCertificates()[0]);
                                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                                    throw new IllegalStateException(e);
                                }
                                super.onHeaders(h);
                            }
                        }, headers);
                    }
                };
            }
        };
        ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", orchestrator.port(),
                TlsChannelCredentials.newBuilder().trustManager(dir.resolve("ca.crt").toFile()).build()).intercept(capture).build();
        try {
            HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
            return seen.get();
        } finally {
            ch.shutdownNow();
        }
    }
}
