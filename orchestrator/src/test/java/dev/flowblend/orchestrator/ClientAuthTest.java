package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.CancelRequest;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.security.AuthConfig;
import dev.flowblend.security.BearerAuth;
import dev.flowblend.security.TokenFile;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens on GenerationService: no token or an unknown one is UNAUTHENTICATED, a token
 * cancels only its own generations, and a token's own limits hold while another's are free.
 */
@Timeout(120)
class ClientAuthTest {
    private static final String TOKEN_A = "fbt_team-a-secret";
    private static final String TOKEN_B = "fbt_team-b-secret";

    @TempDir
    Path dir;
    private io.grpc.Server mute;
    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        Path tokens = dir.resolve("tokens.json");
        Files.writeString(tokens, "{\"tokens\": ["
                + "{\"name\": \"team-a\", \"sha256\": \"" + TokenFile.sha256(TOKEN_A) + "\", \"max_running\": 1,"
                + " \"max_queued\": 1},"
                + "{\"name\": \"team-b\", \"sha256\": \"" + TokenFile.sha256(TOKEN_B) + "\"}]}");
        // the small pool's only worker takes steps and never answers: small-only generations run until cancelled
        String muteAddress = "inproc-auth-mute-" + System.nanoTime() + ":0";
        mute = RemoteBackendTest.muteWorker(muteAddress);
        cluster = new TestCluster(false, 0, List.of(muteAddress), null, new OrchestratorConfig.Security(true, null,
                null, new AuthConfig(tokens.toString(), 10)));
    }

    @AfterEach
    void stop() {
        cluster.close();
        mute.shutdownNow();
    }

    private GenerationServiceGrpc.GenerationServiceBlockingStub as(String token) {
        Metadata h = new Metadata();
        h.put(BearerAuth.AUTHORIZATION, BearerAuth.header(token));
        return cluster.stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
                .withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static GenerateRequest request(String id, String plan, int steps) {
        return GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSteps(steps)
                .setPlan(Plan.newBuilder().setPreset(plan)).setGenerationId(id).build();
    }

    private static Status.Code drain(Iterator<GenerateEvent> events) {
        try {
            events.forEachRemaining(e -> { });
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void generate_withoutOrWithAnUnknownToken_unauthenticatedWithTheReason() {
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> cluster.generate(request("x", "large-only", 2)));
        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
        assertEquals("this orchestrator requires a bearer token: send the header 'authorization: Bearer <token>'",
                none.getStatus().getDescription());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> as("fbt_guessed").generate(request("y", "large-only", 2)).forEachRemaining(e -> { }));
        assertEquals(Status.Code.UNAUTHENTICATED, unknown.getStatus().getCode());
        assertEquals("the bearer token is not accepted (unknown or revoked)", unknown.getStatus().getDescription());
        assertEquals(ServingStatus.SERVING, cluster.health(""), "health needs no token (probes)");
    }

    @Test
    void generate_withAToken_completes() {
        List<GenerateEvent> events = new java.util.ArrayList<>();
        as(TOKEN_B).generate(request("b-1", "large-only", 3)).forEachRemaining(events::add);
        assertTrue(events.get(events.size() - 1).hasResult());
    }

    @Test
    void cancel_anotherTokensGeneration_permissionDeniedAndItKeepsRunning() {
        Iterator<GenerateEvent> a = as(TOKEN_A).generate(request("a-1", "small-only", 10));
        assertTrue(a.next().hasAccepted());
        StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
                () -> as(TOKEN_B).cancel(CancelRequest.newBuilder().setGenerationId("a-1").build()));
        assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
        assertEquals("generation 'a-1' was started with another token; a token may cancel only its own generations",
                denied.getStatus().getDescription());
        StatusRuntimeException noToken = assertThrows(StatusRuntimeException.class,
                () -> cluster.stub.cancel(CancelRequest.newBuilder().setGenerationId("a-1").build()));
        assertEquals(Status.Code.UNAUTHENTICATED, noToken.getStatus().getCode());
        assertTrue(as(TOKEN_A).cancel(CancelRequest.newBuilder().setGenerationId("a-1").build()).getCancelled());
        assertEquals(Status.Code.CANCELLED, drain(a));
    }

    @Test
    void generate_pastTheTokensOwnLimits_resourceExhaustedNamingTheToken_otherTokenStillAdmitted() {
        Iterator<GenerateEvent> running = as(TOKEN_A).generate(request("a-run", "small-only", 10));
        assertEquals(0, running.next().getAccepted().getQueuePosition());
        Iterator<GenerateEvent> queued = as(TOKEN_A).generate(request("a-queued", "small-only", 10));
        assertEquals(0, queued.next().getAccepted().getQueuePosition(), "waits for team-a's one running slot");
        StatusRuntimeException third = assertThrows(StatusRuntimeException.class,
                () -> as(TOKEN_A).generate(request("a-third", "small-only", 10)).forEachRemaining(e -> { }));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, third.getStatus().getCode());
        assertEquals("token 'team-a' has 1 generations running and 1 queued, its limit (max_running 1, max_queued 1);"
                + " retry when one finishes", third.getStatus().getDescription());
        List<GenerateEvent> b = new java.util.ArrayList<>();
        as(TOKEN_B).generate(request("b-free", "large-only", 3)).forEachRemaining(b::add);
        assertTrue(b.get(b.size() - 1).hasResult(), "team-b runs while team-a waits");
        as(TOKEN_A).cancel(CancelRequest.newBuilder().setGenerationId("a-run").build());
        assertEquals(Status.Code.CANCELLED, drain(running));
        as(TOKEN_A).cancel(CancelRequest.newBuilder().setGenerationId("a-queued").build());
        assertEquals(Status.Code.CANCELLED, drain(queued));
    }
}
