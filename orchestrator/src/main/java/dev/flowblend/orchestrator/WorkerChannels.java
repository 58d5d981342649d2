package dev.flowblend.orchestrator;

import io.grpc.ManagedChannel;
import java.util.function.Function;

/**
 * How the orchestrator opens a channel to one worker: {@code address} is what is dialed (an IP and
 * port after a pool's DNS name was resolved, or a configured endpoint), {@code authority} the name
 * the worker is known by (the pool's {@code dns}, or the endpoint itself), which a TLS channel
 * checks the worker's certificate against. The caller owns the channel it gets.
 */
@FunctionalInterface
public interface WorkerChannels {
    ManagedChannel open(String address, String authority);

    /** Channels that need no authority (plaintext Netty, in-process transport in tests). */
    static WorkerChannels byAddress(Function<String, ManagedChannel> channels) {
        return (address, authority) -> channels.apply(address);
    }
}
