package dev.flowblend.cli;

import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.proto.generation.GenerateRequest;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The load command's list arguments, parsed and checked before anything runs: every mistake
 * throws an IllegalArgumentException whose message names the flag and its limit (the command
 * prints it as one line and exits 2).
 */
final class LoadArgs {
    static final int MAX_CONCURRENCY = 1024;
    static final double MAX_RATE = 1000;

    private LoadArgs() {
    }

    /** A plan as the load sends it: its label in the report and how it sets a request's plan. */
    record PlanChoice(String label, Consumer<GenerateRequest.Builder> apply) {
    }

    /** Comma-separated concurrencies, each 1..1024, at least one. */
    static List<Integer> concurrencies(String arg) {
        List<Integer> out = new ArrayList<>();
        for (String v : items("--concurrency", arg, "1 to " + MAX_CONCURRENCY + ", e.g. 1,2,4,8")) {
            int c;
            try {
                c = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--concurrency '" + v + "' is not a whole number; must be 1 to "
                        + MAX_CONCURRENCY);
            }
            if (c < 1 || c > MAX_CONCURRENCY) {
                throw new IllegalArgumentException("--concurrency is " + c + "; must be 1 to " + MAX_CONCURRENCY);
            }
            out.add(c);
        }
        return out;
    }

    /** Comma-separated rates in videos per second, each more than 0 and at most 1000, at least one. */
    static List<Double> rates(String arg) {
        List<Double> out = new ArrayList<>();
        for (String v : items("--rate", arg, "more than 0 and at most " + LoadPoint.fmt(MAX_RATE)
                + " videos/s, e.g. 0.5,1,2")) {
            double r;
            try {
                r = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--rate '" + v + "' is not a number; must be more than 0 and "
                        + "at most " + LoadPoint.fmt(MAX_RATE) + " videos/s");
            }
            if (!(r > 0) || r > MAX_RATE) {
                throw new IllegalArgumentException("--rate is " + v + "; must be more than 0 and at most "
                        + LoadPoint.fmt(MAX_RATE) + " videos/s");
            }
            out.add(r);
        }
        return out;
    }

    /**
     * Comma-separated plans, each a preset ({@link StagePlan#PRESETS}) or a readable plan file
     * (loaded now, so a bad one fails before any generation): a file's solver, steps and history
     * fill a request's unset fields ({@link Plans#toRequest}). Unlike {@code --plan}, which sends
     * any name on for the orchestrator to resolve (its config may name plans of its own), a name
     * here must be known to this client, so that a typo fails before the sweep instead of as one
     * INVALID_ARGUMENT point.
     */
    static List<PlanChoice> plans(String arg) {
        List<PlanChoice> out = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (String v : items("--plans", arg, "presets " + StagePlan.PRESETS.keySet().stream().sorted().toList()
                + " or plan files, e.g. large-only,flowblending")) {
            if (seen.contains(v)) {
                throw new IllegalArgumentException("--plans names '" + v + "' twice");
            }
            seen.add(v);
            if (!StagePlan.PRESETS.containsKey(v)) {
                if (!Files.isRegularFile(Path.of(v))) {
                    throw new IllegalArgumentException("--plans '" + v + "' is neither a preset "
                            + StagePlan.PRESETS.keySet().stream().sorted().toList() + " nor a plan file");
                }
                StagePlan.load(Path.of(v));  // a malformed file is named with its line now
            }
            out.add(new PlanChoice(v, b -> Plans.toRequest(v, b)));
        }
        return out;
    }

    /** Comma-separated Prometheus text endpoints: http(s) URLs with a host. */
    static List<String> metricsUrls(String arg) {
        List<String> out = new ArrayList<>();
        for (String v : items("--metrics", arg, "http(s) URLs, e.g. http://127.0.0.1:9100/metrics")) {
            URI u;
            try {
                u = new URI(v);
            } catch (URISyntaxException e) {
                u = null;
            }
            if (u == null || u.getHost() == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
                throw new IllegalArgumentException("--metrics '" + v + "' is not an http:// or https:// URL with a "
                        + "host, e.g. http://127.0.0.1:9100/metrics");
            }
            out.add(v);
        }
        return out;
    }

    /** The trimmed items of a comma-separated list; none, or an empty one, is refused naming the flag. */
    static List<String> items(String flag, String arg, String want) {
        List<String> out = new ArrayList<>();
        for (String v : arg.split(",", -1)) {
            out.add(v.strip());
        }
        if (arg.isBlank() || out.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException(flag + " '" + arg + "' has an empty item; give one or more values, "
                    + "comma-separated: " + want);
        }
        return out;
    }
}
