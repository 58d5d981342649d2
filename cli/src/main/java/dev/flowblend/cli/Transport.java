package dev.flowblend.cli;

import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.OrchestratorServer;
import dev.flowblend.orchestrator.WorkerChannels;
import dev.flowblend.security.TlsCredentials;
import dev.flowblend.telemetry.Event;
import dev.flowblend.worker.WorkerConfig;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * A serving process's transport security from its config's {@code security} section: the
 * credentials of its listening port (TLS; on workers mutual TLS), of its calls to workers (the
 * orchestrator's client certificate), and the plaintext health-only listener. Plaintext links are
 * logged once at start-up as {@code plaintext_transport} warnings.
 *
 * <p>Owns the TLS credentials and their reload threads; close it after the server that uses it.
 */
final class Transport implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Transport.class.getName());

    private final List<TlsCredentials> owned = new ArrayList<>();
    private final ServerCredentials server;
    private final ChannelCredentials workers;
    private final Integer healthPort;

    private Transport(ServerCredentials server, ChannelCredentials workers, Integer healthPort) {
        this.server = server;
        this.workers = workers;
        this.healthPort = healthPort;
    }

    static Transport worker(WorkerConfig c) {
        WorkerConfig.Security s = c.security();
        if (s.tls() == null) {
            plaintext("worker '" + c.name() + "'", "OIP port " + c.port(), "any caller that reaches the port may call "
                    + "ModelInfer and use the context cache");
            return new Transport(InsecureServerCredentials.create(), null, s.healthPort());
        }
        TlsCredentials tls = TlsCredentials.forServer(s.tls());
        Transport t = new Transport(tls.serverCredentials(true), null, s.healthPort());
        t.owned.add(tls);
        return t;
    }

    static Transport orchestrator(OrchestratorConfig c) {
        OrchestratorConfig.Security s = c.security();
        List<TlsCredentials> made = new ArrayList<>();
        try {
            ServerCredentials server;
            if (s.tls() == null) {
                plaintext("orchestrator", "client port " + c.port(), "prompts, videos and bearer tokens cross the "
                        + "network readable");
                server = InsecureServerCredentials.create();
            } else {
                TlsCredentials tls = TlsCredentials.forServer(s.tls());
                made.add(tls);
                server = tls.serverCredentials(false);  // clients authenticate with bearer tokens
            }
            ChannelCredentials workers;
            if (s.workerTls() == null) {
                plaintext("orchestrator", "calls to workers", "workers cannot tell the orchestrator from anyone else");
                workers = InsecureChannelCredentials.create();
            } else {
                TlsCredentials tls = TlsCredentials.forClient(s.workerTls());
                made.add(tls);
                workers = tls.channelCredentials();
            }
            Transport t = new Transport(server, workers, s.healthPort());
            t.owned.addAll(made);
            return t;
        } catch (RuntimeException e) {
            made.forEach(TlsCredentials::close);
            throw e;
        }
    }

    private static void plaintext(String process, String link, String risk) {
        LOG.warning(Event.of("plaintext_transport").with("process", process).with("link", link)
                .with("risk", risk).with("because", "security.plaintext is true").toString());
    }

    /** The process's main port. */
    NettyServerBuilder server(String host, int port) {
        return Launcher.netty(NettyServerBuilder.forAddress(new InetSocketAddress(host, port), server));
    }

    /** The health-only plaintext listener, or null when security.health_port is not set. */
    NettyServerBuilder health(String host) {
        return healthPort == null ? null
                : NettyServerBuilder.forAddress(new InetSocketAddress(host, healthPort), InsecureServerCredentials.create());
    }

    /** Channels to workers with this process's client credentials (see {@link OrchestratorServer#nettyChannels}). */
    WorkerChannels workerChannels(int maxMessageBytes) {
        return OrchestratorServer.nettyChannels(maxMessageBytes, workers);
    }

    @Override
    public void close() {
        owned.forEach(TlsCredentials::close);
    }
}
