package dev.flowblend.cli;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.util.concurrent.TimeUnit;

/** Polls a gRPC health service until it says SERVING or the wait is over (bounded: never hangs). */
final class HealthProbe {
    private HealthProbe() {
    }

    /** What the last check saw: SERVING, another status, or an error such as "UNAVAILABLE: ..." when none answered. */
    record Seen(boolean serving, String status) {
    }

    /**
     * Checks {@code service} ("" = the whole server) every {@code pollMillis}, each check under a
     * 1 s deadline, until SERVING or {@code waitMillis} have passed (0: check once).
     */
    static Seen await(Channel channel, String service, long waitMillis, long pollMillis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(service).build();
        while (true) {
            Seen seen;
            try {
                ServingStatus s = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
                        .check(request).getStatus();
                seen = new Seen(s == ServingStatus.SERVING, s.name());
            } catch (StatusRuntimeException e) {
                seen = new Seen(false, Main.describe(e));
            }
            if (seen.serving() || System.nanoTime() >= end) {
                return seen;
            }
            Thread.sleep(pollMillis);  // polling another process; nothing to wait on instead
        }
    }
}
