package dev.flowblend.cli;

/**
 * How a serving command runs its server: start it (closing the metrics if that fails), close it
 * from a shutdown hook on SIGTERM — the server drains first (NOT_SERVING, stop accepting, finish
 * what it took), then the metrics endpoint stops — and wait until it has terminated.
 */
final class Serving {
    /** One step of a server's lifecycle. */
    interface Step {
        void run() throws Exception;
    }

    private Serving() {
    }

    static int run(String name, Step start, Step awaitTermination, Runnable close, Telemetry telemetry)
            throws Exception {
        try {
            start.run();
        } catch (Exception | Error e) {
            telemetry.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close.run();
            telemetry.close();
        }, name + "-shutdown"));
        awaitTermination.run();
        return 0;
    }
}
