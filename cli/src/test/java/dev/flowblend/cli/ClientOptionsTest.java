package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.security.BearerAuth;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client commands' connection options: where the token comes from, what is refused, what goes on the wire. */
class ClientOptionsTest {
    private static ClientOptions options(Path tokenFile, Path tlsCa) {
        ClientOptions o = new ClientOptions();
        o.tokenFile = tokenFile;
        o.tlsCa = tlsCa;
        return o;
    }

    @Test
    void token_fileWinsOverEnvironment_firstLineStripped(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("token"), "fbt_fromfile  \nsecond line\n");
        assertEquals("fbt_fromfile", options(f, null).token(Map.of(ClientOptions.TOKEN_ENV, "fbt_fromenv")));
        assertEquals("fbt_fromenv", options(null, null).token(Map.of(ClientOptions.TOKEN_ENV, " fbt_fromenv\n")));
        assertNull(options(null, null).token(Map.of()));
    }

    @Test
    void token_emptyOrNotPrintable_refusedNamingTheSource(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("token"), "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> options(f, null).token(Map.of()));
        assertEquals("--token-file " + f + ": the token must be one line of printable ASCII, not empty", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> options(null, null).token(Map.of(ClientOptions.TOKEN_ENV, "fbt_a\u00e9b")));
        assertEquals("FLOWBLEND_TOKEN: the token must be one line of printable ASCII, not empty", e.getMessage());
    }

    @Test
    void check_missingFiles_refusedNamingTheOption(@TempDir Path dir) {
        Path missing = dir.resolve("nope.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> options(null, missing).check());
        assertEquals("--tls-ca " + missing + ": no such readable file", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> options(missing, null).check());
        assertEquals("--token-file " + missing + ": no such readable file", e.getMessage());
    }

    @Test
    void tlsCa_notPem_refusedNamingTheOption(@TempDir Path dir) throws Exception {
        Path junk = Files.writeString(dir.resolve("ca.crt"), "not a certificate");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClientOptions.credentials(junk));
        assertTrue(e.getMessage().startsWith("--tls-ca " + junk + ": not a PEM CA bundle"), e.getMessage());
    }

    @Test
    void channel_tokenOverPlaintext_sentAsBearerHeaderWithOneWarning(@TempDir Path dir) throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        ServerInterceptor capture = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata h, ServerCallHandler<Q, R> next) {
                seen.set(h.get(BearerAuth.AUTHORIZATION));
                return next.startCall(call, h);
            }
        };
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(), capture))
                .build().start();
        try {
            ClientOptions o = options(Files.writeString(dir.resolve("token"), "fbt_abc\n"), null);
            o.target = "127.0.0.1:" + server.getPort();
            List<String> warnings = new ArrayList<>();
            ManagedChannel ch = o.channel(Map.of(), warnings::add);
            try {
                HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            assertEquals("Bearer fbt_abc", seen.get());
            assertEquals(List.of("warning: sending a bearer token to " + o.target + " over plaintext; give --tls-ca to "
                    + "connect with TLS"), warnings);
        } finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
