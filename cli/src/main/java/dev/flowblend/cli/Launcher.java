package dev.flowblend.cli;

import dev.flowblend.runtime.ModelFamily;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Where the launcher runs from: ./flowblend sets flowblend.home to the repository root. */
final class Launcher {
    private Launcher() {
    }

    static Path home() {
        return Path.of(System.getProperty("flowblend.home", "."));
    }

    /**
     * A TCP server builder for our processes. Clients' keepalive pings are allowed every 10 s:
     * the orchestrator pings its workers every 30 s, and a worker stream stays open between
     * generations, or for a whole step of a large model without a byte of data; with gRPC's
     * default (one ping per 5 min) the server would close such a connection with
     * ENHANCE_YOUR_CALM "too_many_pings" after the third ping.
     */
    static NettyServerBuilder netty(String host, int port) {
        return netty(NettyServerBuilder.forAddress(new InetSocketAddress(host, port)));
    }

    /** {@code b} with the keepalive policy above. */
    static NettyServerBuilder netty(NettyServerBuilder b) {
        return b.permitKeepAliveTime(10, TimeUnit.SECONDS);
    }

    /** The family from --models, else the config's models_dir, else the bundled one. */
    static ModelFamily family(Path flag, String configured) {
        return ModelFamily.load(flag != null ? flag
                : configured != null ? Path.of(configured) : ModelFamily.defaultDirectory());
    }
}
