package dev.flowblend.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** A gRPC health check from the command line (scripts wait on it for a process to be ready). */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Check a process's gRPC health service; exit 0 once it says SERVING, 1 if it did not within --wait.")
final class ProbeCommand implements Callable<Integer> {
    @Option(names = "--target", required = true, description = "Address host:port of a worker or orchestrator.")
    String target;

    @Option(names = "--tls-ca", description = "Connect with TLS, trusting this CA bundle (PEM). A worker that "
            + "requires client certificates is probed on its plaintext health_port instead.")
    Path tlsCa;

    @Option(names = "--service", description = "Health service name: \"\" is the process (liveness); "
            + "flowblend.v1.GenerationService the orchestrator's readiness; inference.GRPCInferenceService a worker's "
            + "(default: \"${DEFAULT-VALUE}\").")
    String service = "";

    @Option(names = "--wait", description = "Seconds to keep checking until SERVING, 0..600 (default: ${DEFAULT-VALUE}: check once).")
    double waitSeconds = 0;

    @Override
    public Integer call() throws Exception {
        if (!(waitSeconds >= 0 && waitSeconds <= 600)) {
            throw new IllegalArgumentException("--wait is " + waitSeconds + " s; must be 0 to 600");
        }
        GenerationClient.checkTarget("--target", target);
        ManagedChannel ch = NettyChannelBuilder.forTarget(target, ClientOptions.credentials(tlsCa)).build();
        try {
            HealthProbe.Seen seen = HealthProbe.await(ch, service, Math.round(waitSeconds * 1000), 200);
            System.out.println(target + " " + (service.isEmpty() ? "(server)" : service) + ": " + seen.status());
            return seen.serving() ? 0 : 1;
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
