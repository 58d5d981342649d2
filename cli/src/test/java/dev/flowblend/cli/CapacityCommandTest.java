package dev.flowblend.cli;

import static dev.flowblend.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowblend.capacity.PlanSpec;
import dev.flowblend.orchestrator.SigmaSchedule;
import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.runtime.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `flowblend capacity`: its plans agree with the orchestrator's, its errors name the field, its tables are the committed ones. */
class CapacityCommandTest {
    private static final String COSTS = """
            {"plan": "flowblending", "guidance": true,
             "pools": {"large": {"workers": 2, "price_per_hour": 4.0,
                                 "models": {"velocity-large": {"per_sample_ms": 10, "max_batch_size": 4},
                                            "text-encoder": {"per_sample_ms": 2}, "decoder": {"per_sample_ms": 5}}},
                       "small": {"workers": 1, "price_per_hour": 1.0,
                                 "models": {"velocity-small": {"per_sample_ms": 3, "max_batch_size": 4}}}},
             "orchestrator": {"step_overhead_ms": 1, "encode_ms": 10, "max_concurrent_generations": 8}}
            """;


    private static JsonNode lastLine(String stdout) throws Exception {
        String[] lines = stdout.strip().split("\n");
        return Json.mapper().readTree(lines[lines.length - 1]);
    }

    /** Repository root: where docs/capacity lies, wherever Maven runs the tests from. */
    private static Path repo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("docs").resolve("capacity"))) {
                return p;
            }
        }
        throw new IllegalStateException("no docs/capacity above " + Path.of("").toAbsolutePath());
    }

    /** The simulator sends every step where the orchestrator would: presets and plan files alike. */
    @Test
    void plans_resolveToTheOrchestratorsPools(@TempDir Path dir) throws Exception {
        for (String preset : StagePlan.PRESETS.keySet()) {
            for (int steps : new int[] {1, 3, 7, 10, 33, 50, 51}) {
                String[] orchestrator = StagePlan.PRESETS.get(preset).resolve(steps, SigmaSchedule.sigmas(steps, 3.0));
                assertArrayEquals(orchestrator, PlanSpec.preset(preset, steps).resolve(), preset + " at " + steps);
                assertArrayEquals(orchestrator, CapacityCommand.planSpec(preset, steps, 3.0).resolve(), preset);
            }
        }
        Path fractions = Files.writeString(dir.resolve("f.json"),
                "{\"name\": \"lsl\", \"segments\": [{\"pool\": \"large\", \"end\": 0.35}, {\"pool\": \"small\", \"end\": 0.85},"
                        + " {\"pool\": \"large\", \"end\": 1.0}], \"steps\": 30}");
        Path sigma = Files.writeString(dir.resolve("s.json"),
                "{\"name\": \"wan22\", \"unit\": \"sigma\", \"segments\": [{\"pool\": \"large\", \"end\": 0.875},"
                        + " {\"pool\": \"small\", \"end\": 0.0}]}");
        for (Path f : new Path[] {fractions, sigma}) {
            StagePlan p = StagePlan.load(f);
            int steps = p.steps() != null ? p.steps() : 50;
            assertArrayEquals(p.resolve(steps, SigmaSchedule.sigmas(steps, 5.0)),
                    CapacityCommand.planSpec(f.toString(), 50, 5.0).resolve(), f.toString());
        }
    }

    @Test
    void simulate_closedAndOpenLoop_jsonAsTheLastLine(@TempDir Path dir) throws Exception {
        Path costs = Files.writeString(dir.resolve("costs.json"), COSTS);
        String[] r = run("capacity", "simulate", "--costs", costs.toString(), "--concurrency", "1", "--count", "3",
                "--warmup", "0", "--json");
        assertEquals("0", r[0], r[2]);
        JsonNode j = lastLine(r[1]);
        assertEquals(3, j.get("completed").asInt());
        // 2 contexts x 2 ms; 30 large steps x (1 + 2 x 10); 20 small x (1 + 2 x 3); decode 5; encode 10
        assertEquals((2 * 2 + 30 * 21 + 20 * 7 + 5 + 10) / 1000.0, j.get("latency_p95_s").asDouble(), 1e-12);
        assertTrue(r[1].contains("pool large: 2 workers"), r[1]);

        String[] open = run("capacity", "simulate", "--costs", costs.toString(), "--rate", "5", "--count", "300",
                "--plan", "large-only", "--json");
        assertEquals("0", open[0], open[2]);
        JsonNode o = lastLine(open[1]);
        assertTrue(o.get("plan").asText().startsWith("large-only"), o.toString());
        assertEquals(0, o.get("pools").get("small").get("measured_calls").asInt());
    }

    @Test
    void plan_marksTheCheapestPlacement(@TempDir Path dir) throws Exception {
        Path costs = Files.writeString(dir.resolve("costs.json"), COSTS);
        String[] r = run("capacity", "plan", "--costs", costs.toString(), "--rate", "20", "--slo-p95", "5",
                "--count", "500", "--json");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("* text encoder on large, decoder on large: large "), r[1]);
        JsonNode j = lastLine(r[1]);
        JsonNode best = j.get("placements").get(0);
        assertTrue(best.get("best").asBoolean() && best.get("feasible").asBoolean(), best.toString());
        assertTrue(best.get("latency_p95_s").asDouble() <= 5.0, best.toString());
    }

    /** Mistakes end with one line naming the option or field, and exit status 2; never a stack trace. */
    @Test
    void badInput_oneLineNamingTheFieldAndExitStatus2(@TempDir Path dir) throws Exception {
        Path costs = Files.writeString(dir.resolve("costs.json"), COSTS);
        Path typo = Files.writeString(dir.resolve("typo.json"), COSTS.replace("\"encode_ms\"", "\"encoding_ms\""));
        Path negative = Files.writeString(dir.resolve("neg.json"), COSTS.replace("\"per_sample_ms\": 3", "\"per_sample_ms\": -3"));
        Path medium = Files.writeString(dir.resolve("medium.json"),
                "{\"segments\": [{\"pool\": \"large\", \"end\": 0.5}, {\"pool\": \"medium\", \"end\": 1.0}]}");
        String c = costs.toString();
        String[][] cases = {
            {"capacity simulate: cannot read " + dir.resolve("none.json"), "simulate", "--costs", dir.resolve("none.json").toString()},
            {"capacity simulate: cannot read " + typo + ": orchestrator", "simulate", "--costs", typo.toString()},
            {"capacity simulate: " + negative + ": pools.small.models.velocity-small.per_sample_ms is -3; must be >= 0",
                "simulate", "--costs", negative.toString()},
            {"capacity simulate: --rate is -1.0; must be > 0", "simulate", "--costs", c, "--rate", "-1"},
            {"capacity simulate: --concurrency and --rate exclude each other", "simulate", "--costs", c, "--rate", "1",
                "--concurrency", "2"},
            {"capacity simulate: plan names pool 'medium', which is not in pools [large, small]", "simulate", "--costs", c,
                "--plan", medium.toString()},
            {"capacity simulate: --plan is 'turbo'; must be a preset", "simulate", "--costs", c, "--plan", "turbo"},
            {"capacity plan: --rate is -2.0; must be > 0", "plan", "--costs", c, "--rate", "-2", "--slo-p95", "10"},
            {"capacity plan: --slo-p95 is 0.0; must be > 0", "plan", "--costs", c, "--rate", "2", "--slo-p95", "0"},
            {"capacity table: cannot read " + dir.resolve("none.json"), "table", "--clusters", dir.resolve("none.json").toString()},
        };
        for (String[] k : cases) {
            String[] args = new String[k.length];
            args[0] = "capacity";
            System.arraycopy(k, 1, args, 1, k.length - 1);
            String[] r = run(args);
            assertEquals("2", r[0], k[0] + ": " + r[2]);
            assertTrue(r[2].startsWith("flowblend " + k[0]), "expected '" + k[0] + "', got: " + r[2]);
            assertEquals(1, r[2].strip().lines().count(), "one line: " + r[2]);
            assertFalse(r[2].contains("\tat "), r[2]);
        }
        assertTrue(run(args("simulate", "--costs", typo.toString()))[2].contains("Unrecognized field \"encoding_ms\""));
        assertEquals("2", run("capacity")[0]);
    }

    private static String[] args(String... a) {
        String[] out = new String[a.length + 1];
        out[0] = "capacity";
        System.arraycopy(a, 0, out, 1, a.length);
        return out;
    }

    /**
     * The committed tables are what the command makes from the committed clusters file, and
     * docs/capacity.md shows the same main table: neither can drift from the inputs.
     */
    @Test
    void table_regeneratedFromClustersJson_equalsTheCommittedTables(@TempDir Path dir) throws Exception {
        Path root = repo();
        Path out = Files.createDirectories(dir.resolve("docs/capacity")).resolve("tables.md");
        String[] r = run("capacity", "table", "--clusters", root.resolve("docs/capacity/clusters.json").toString(),
                "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        String made = Files.readString(out);
        Path committed = root.resolve("docs/capacity/tables.md");
        assertEquals(Files.readString(committed), made,
                "docs/capacity/tables.md is stale: regenerate it with the command on its first line");
        assertTrue(made.startsWith("<!-- generated by `./flowblend capacity table --clusters docs/capacity/clusters.json"
                + " --out docs/capacity/tables.md`"), made.lines().findFirst().orElse(""));
        String main = section(made, "## Cheapest plan per cluster and volume");
        assertTrue(Files.readString(root.resolve("docs/capacity.md")).contains(main),
                "docs/capacity.md must show the main table of docs/capacity/tables.md verbatim");
    }

    /** The lines from {@code heading} to the next blank line after its table. */
    private static String section(String md, String heading) {
        int from = md.indexOf(heading);
        int table = md.indexOf("\n|", from);
        int end = md.indexOf("\n\n", table);
        return md.substring(table + 1, end);
    }
}
