package dev.flowblend.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the project's Python scripts (models/) from tests: finds the first of {@code python3},
 * {@code /usr/bin/python3} that can import what a script needs ({@code .ci/install-tools} installs
 * Debian's python3-onnx, python3-numpy and python3-torch), and runs a script to completion with its
 * output captured. Thread-safe.
 */
public final class PythonScripts {
    private static final List<String> PYTHONS = List.of("python3", "/usr/bin/python3");
    private static final Map<String, String> FOUND = new HashMap<>();

    /** What a finished script said: its exit status and its stdout and stderr together. */
    public record Outcome(int exitCode, String output) {
    }

    private PythonScripts() {
    }

    /** The first python that can {@code import <modules>} (e.g. "onnx, numpy"). */
    public static synchronized String python(String modules) {
        String found = FOUND.get(modules);
        if (found != null) {
            return found;
        }
        for (String candidate : PYTHONS) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import " + modules).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    FOUND.put(modules, candidate);
                    return candidate;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // not installed: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IllegalStateException("no python that can 'import " + modules + "' (tried " + PYTHONS
                + "); run .ci/install-tools, which installs Debian's python3-onnx, python3-numpy and python3-torch");
    }

    /** Runs {@code python args...}; waits up to {@code minutes}. */
    public static Outcome run(String python, List<String> args, int minutes) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(python);
        cmd.addAll(args);
        try {
            // output to a file, not a pipe, so the wait below can time out (reading a pipe to its end would block)
            java.nio.file.Path log = java.nio.file.Files.createTempFile("python-", ".log");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("timed out after " + minutes + " min: " + String.join(" ", cmd)
                            + "\n" + java.nio.file.Files.readString(log));
                }
                return new Outcome(p.exitValue(), java.nio.file.Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                java.nio.file.Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    /** {@link #run}, failing with the script's output unless it exits 0. */
    public static String runOrFail(String python, List<String> args, int minutes) {
        Outcome o = run(python, args, minutes);
        if (o.exitCode() != 0) {
            throw new IllegalStateException("failed (exit " + o.exitCode() + "): " + python + " "
                    + String.join(" ", args) + "\n" + o.output());
        }
        return o.output();
    }
}
