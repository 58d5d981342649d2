package dev.flowblend.cli;

import java.nio.file.Path;

/**
 * Prints a cluster config's {@code jvm_options}, one per line, for the {@code ./flowblend}
 * launcher: a worker or orchestrator started by hand with {@code --cluster FILE} then runs with
 * the same JVM options as the processes {@code demo} starts. Exit status 1 and the config's own
 * error message when the file is invalid.
 */
final class JvmOptions {
    private JvmOptions() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: JvmOptions CLUSTER_FILE");
            System.exit(2);
        }
        try {
            ClusterConfig.load(Path.of(args[0])).jvmOptions().forEach(System.out::println);
        } catch (IllegalArgumentException e) {
            System.err.println("flowblend: " + e.getMessage());
            System.exit(1);
        }
    }
}
