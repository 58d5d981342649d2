package dev.flowblend.cli;

import dev.flowblend.security.BearerAuth;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * How a client command reaches an orchestrator: its address, the CA that the orchestrator's TLS
 * certificate must chain to, and the bearer token to present. A picocli mixin shared by
 * {@code generate} and {@code load} (and, without the token, {@code probe}), so each option is
 * spelled once.
 *
 * <p>The token comes from {@code --token-file} (the file's first line) or else the environment
 * variable {@value #TOKEN_ENV}; never from the command line, where it would show in the process
 * list and the shell history.
 */
final class ClientOptions {
    static final String TOKEN_ENV = "FLOWBLEND_TOKEN";
    static final int MAX_INBOUND_BYTES = 256 << 20;

    @Option(names = "--target", description = "Orchestrator address host:port (default: ${DEFAULT-VALUE}).")
    String target = "127.0.0.1:8100";

    @Option(names = "--tls-ca", description = "Connect with TLS, trusting this CA bundle (PEM; the orchestrator's "
            + "ca.crt). Without it the connection is plaintext.")
    Path tlsCa;

    @Option(names = "--token-file", description = "Bearer token to present (the file's first line); default: the "
            + "environment variable " + TOKEN_ENV + ", if set.")
    Path tokenFile;

    /** Checks the options before anything runs; every mistake names its option. */
    void check() {
        GenerationClient.checkTarget("--target", target);
        if (tlsCa != null && !Files.isReadable(tlsCa)) {
            throw new IllegalArgumentException("--tls-ca " + tlsCa + ": no such readable file");
        }
        if (tokenFile != null && !Files.isReadable(tokenFile)) {
            throw new IllegalArgumentException("--token-file " + tokenFile + ": no such readable file");
        }
    }

    /**
     * A channel to the orchestrator, with the token (if any) on every call. A token over plaintext
     * is sent, but {@code warn} is told once: anyone on the path can read and replay it.
     */
    ManagedChannel channel(Map<String, String> env, Consumer<String> warn) {
        check();
        String token = token(env);
        if (tlsCa == null && token != null) {
            warn.accept("warning: sending a bearer token to " + target + " over plaintext; give --tls-ca to "
                    + "connect with TLS");
        }
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(target, credentials(tlsCa))
                .maxInboundMessageSize(MAX_INBOUND_BYTES);
        if (token != null) {
            b.intercept(bearer(token));
        }
        return b.build();
    }

    /** What an UNAVAILABLE error should add: a plaintext client may be talking to a TLS port, or the reverse. */
    String unavailableHint() {
        return tlsCa == null ? " (connected in plaintext; if the orchestrator serves TLS, give --tls-ca)"
                : " (connected with TLS trusting " + tlsCa + "; check that the orchestrator serves TLS with a "
                        + "certificate from that CA for the name " + target.substring(0, target.lastIndexOf(':')) + ")";
    }

    /** TLS trusting {@code tlsCa} (the --tls-ca option), or plaintext when it is null. */
    static ChannelCredentials credentials(Path tlsCa) {
        if (tlsCa == null) {
            return InsecureChannelCredentials.create();
        }
        try {
            byte[] pem = Files.readAllBytes(tlsCa);
            // parsed here, so a wrong file is named now rather than as a handshake failure later
            if (CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)).isEmpty()) {
                throw new CertificateException("no certificate in it");
            }
            return TlsChannelCredentials.newBuilder().trustManager(new ByteArrayInputStream(pem)).build();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("--tls-ca " + tlsCa + ": not a PEM CA bundle (" + e.getMessage() + ")", e);
        }
    }

    /** The token from --token-file, else from the environment; null when neither gives one. */
    String token(Map<String, String> env) {
        String t;
        String source;
        if (tokenFile != null) {
            try {
                t = Files.readAllLines(tokenFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").strip();
            } catch (IOException e) {
                throw new IllegalArgumentException("--token-file " + tokenFile + ": cannot read (" + e.getMessage() + ")", e);
            }
            source = "--token-file " + tokenFile;
        } else {
            t = env.get(TOKEN_ENV);
            if (t == null) {
                return null;
            }
            t = t.strip();
            source = TOKEN_ENV;
        }
        if (t.isEmpty() || !t.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException(source + ": the token must be one line of printable ASCII, not empty");
        }
        return t;
    }

    static ClientInterceptor bearer(String token) {
        Metadata headers = new Metadata();
        headers.put(BearerAuth.AUTHORIZATION, BearerAuth.header(token));
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }
}
