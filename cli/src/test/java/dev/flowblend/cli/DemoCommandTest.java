package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The demo's measuring options are checked before any process starts. */
class DemoCommandTest {
    @ParameterizedTest
    @ValueSource(strings = {"--runs=0", "--runs=1001", "--warmup=-1"})
    void badCounts_refusedNamingBothLimits(String option) {
        PrintStream before = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(new String[] {"demo", option});
        } finally {
            System.setErr(before);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, text);
        assertTrue(text.contains("need --warmup 0..1000 and --runs 1..1000"), text);
        assertTrue(!text.contains("starting"), text);
    }
}
