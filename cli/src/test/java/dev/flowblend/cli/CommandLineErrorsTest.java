package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mistakes on the command line are named before anything runs, with the option and the limit;
 * no stack trace, no generation spent, no silent substitute (an MP4 under a .webm name).
 */
class CommandLineErrorsTest {

    /** Runs the CLI in this JVM; returns the exit status and what it wrote to stderr. */
    private static String[] run(String... args) {
        PrintStream before = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new String[] {String.valueOf(code), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(before);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "negative progress interval|--progress-interval-ms=-5|--progress-interval-ms is -5; must be 0 or more",
        "negative steps|--steps=-1|--steps is -1; must be 0 or more",
        "unknown solver|--solver=rk4|--solver is 'rk4'; must be one of [euler, dpm++2m, unipc]",
        "unknown solver history|--solver-history=keep|--solver-history is 'keep'; must be carry or reset",
        "not host:port|--target=nonsense|--target 'nonsense' must be host:port, e.g. 127.0.0.1:8100",
        "port out of range|--target=127.0.0.1:70000|--target '127.0.0.1:70000' must be host:port",
        "unknown container|--out=x.webm|--out x.webm: the file name must end in .mp4 (H.264) or .gif",
        "folder missing|--out=/nonexistent/x.mp4|--out /nonexistent/x.mp4: the folder /nonexistent does not exist"})
    void generate_badOption_refusedBeforeAnyCallNamingOptionAndLimit(String what, String option, String message) {
        // 127.0.0.1:1 has no orchestrator: a check that let the call through would fail with UNAVAILABLE instead
        String[] args = option.startsWith("--target") ? new String[] {"generate", "--prompt", "a red circle", option}
                : new String[] {"generate", "--target", "127.0.0.1:1", "--prompt", "a red circle", option};
        String[] r = run(args);
        assertEquals("1", r[0], what);
        assertTrue(r[1].contains("flowblend generate: " + message), what + ": " + r[1]);
        assertTrue(!r[1].contains("\tat "), "no stack trace: " + r[1]);
    }

    @Test
    void generate_noOrchestratorThere_unavailableNamingTheAddress(@TempDir Path dir) {
        String[] r = run("generate", "--target", "127.0.0.1:1", "--prompt", "a red circle moving right", "--timeout", "10",
                "--out", dir.resolve("x.mp4").toString());
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("flowblend generate: UNAVAILABLE: orchestrator at 127.0.0.1:1: "), r[1]);
        assertTrue(!Files.exists(dir.resolve("x.mp4")));
    }

    @Test
    void noCommand_usageOnStderrAndExitStatus2() {
        String[] r = run();
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("no command given") && r[1].contains("Usage: flowblend"), r[1]);
    }

    @Test
    void unknownCommand_exitStatus2SuggestingTheNearestOne() {
        String[] r = run("lod");
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("Unmatched argument at index 0: 'lod'") && r[1].contains("load"), r[1]);
    }

    @Test
    void planFile_misspeltKeyOrBadUnit_namedWithItsPathAndLine(@TempDir Path dir) throws Exception {
        Path unit = Files.writeString(dir.resolve("unit.json"),
                "{\"name\": \"x\", \"unit\": \"steps\", \"segments\": [{\"pool\": \"large\", \"end\": 1.0}]}");
        Path key = Files.writeString(dir.resolve("key.json"),
                "{\"name\": \"x\", \"unit\": \"sigma\", \"segments\": [{\"pool\": \"large\", \"ned\": 0.0}]}");
        String[] a = run("generate", "--target", "127.0.0.1:1", "--prompt", "a red circle", "--plan", unit.toString());
        assertTrue(a[1].contains("unit (line 1, column 23): unit is 'steps'; must be step_fraction or sigma"), a[1]);
        String[] b = run("generate", "--target", "127.0.0.1:1", "--prompt", "a red circle", "--plan", key.toString());
        assertTrue(b[1].contains("segments[0].ned (line 1, column "), b[1]);
        assertTrue(b[1].contains("Unrecognized field \"ned\""), b[1]);
    }
}
