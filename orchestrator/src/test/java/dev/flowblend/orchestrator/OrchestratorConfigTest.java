package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The orchestrator config as a file gives it: partial nested objects, metrics_port, one message per field. */
class OrchestratorConfigTest {
    private static final String POOLS = "\"port\": 8100, \"security\": {\"plaintext\": true}, \"pools\": [{\"name\": \"large\", \"model\": \"velocity-large\","
            + " \"endpoints\": [\"a:1\"]}]";

    private static OrchestratorConfig read(String more) throws Exception {
        return Json.mapper().readValue("{" + POOLS + more + "}", OrchestratorConfig.class);
    }

    private static String error(String more) {
        Exception e = assertThrows(Exception.class, () -> read(more));
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    @Test
    void limits_onlyMaxSteps_restTakeTheirDefaults() throws Exception {
        OrchestratorConfig.Limits l = read(", \"limits\": {\"max_steps\": 100}").limits();
        OrchestratorConfig.Limits d = OrchestratorConfig.Limits.DEFAULT;
        assertEquals(new OrchestratorConfig.Limits(d.maxConcurrentGenerations(), d.maxQueuedGenerations(),
                d.maxPromptChars(), 100, d.maxGuidanceScale(), d.stepTimeoutMillis(), d.maxStepAttempts()), l);
    }

    @Test
    void limits_emptyObject_isTheDefault() throws Exception {
        assertEquals(OrchestratorConfig.Limits.DEFAULT, read(", \"limits\": {}").limits());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "max_concurrent_generations|0|limits.max_concurrent_generations is 0; must be >= 1",
        "max_queued_generations|-1|limits.max_queued_generations is -1; must be >= 0",
        "max_prompt_chars|0|limits.max_prompt_chars is 0; must be >= 1",
        "max_steps|-1|limits.max_steps is -1; must be >= 1",
        "max_guidance_scale|0.5|limits.max_guidance_scale is 0.5; must be >= 1",
        "step_timeout_millis|0|limits.step_timeout_millis is 0; must be >= 1",
        "max_step_attempts|0|limits.max_step_attempts is 0; must be >= 1"})
    void limits_oneBadValue_messageNamesFieldValueAndRange(String key, String value, String message) {
        assertEquals(message, error(", \"limits\": {\"" + key + "\": " + value + "}"));
    }

    @Test
    void limits_unknownKey_rejectedNamingIt() {
        assertTrue(error(", \"limits\": {\"max_stepz\": 3}").contains("max_stepz"));
    }

    @Test
    void metricsPort_absent_noEndpoint_givenKept() throws Exception {
        assertNull(read("").metricsPort());
        assertEquals(9100, read(", \"metrics_port\": 9100").metricsPort());
        assertEquals(9100, read(", \"metrics_port\": 9100").withPort(1).metricsPort());
    }

    @Test
    void metricsPort_outOfRangeOrTheGrpcPort_rejected() {
        assertEquals("orchestrator metrics_port is 70000; must be 0 (any free port) to 65535, or absent (no metrics "
                + "endpoint)", error(", \"metrics_port\": 70000"));
        assertEquals("orchestrator metrics_port is 8100, the same as its gRPC port; give it a port of its own",
                error(", \"metrics_port\": 8100"));
    }

    @Test
    void host_overridden_restKept() throws Exception {
        OrchestratorConfig c = read(", \"metrics_port\": 9100").withHost("0.0.0.0");
        assertEquals("0.0.0.0", c.host());
        assertEquals(9100, c.metricsPort());
        assertEquals(8100, c.port());
    }

    private static String fileError(String more, Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("c.json"), "{" + POOLS + more + "}");
        return assertThrows(IllegalArgumentException.class, () -> Json.read(f, OrchestratorConfig.class)).getMessage();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"video_scale\": 9150.5|video_scale (line 1, column |Cannot coerce Floating-point value (9150.5) to `int`",
        "\"limits\": {\"max_steps\": \"100\"}|limits.max_steps (line 1, column |Cannot coerce String value (\"100\")",
        "\"pools\": [{\"name\": \"large\", \"model\": \"velocity-large\", \"endpoints\": [\"a:1\"], \"dns_refersh_millis\": 5}]"
            + "|pools[0].dns_refersh_millis (line 1, column |Unrecognized field \"dns_refersh_millis\"",
        "\"limits\": {\"max_steps\": -1}|limits (line 1, column |limits.max_steps is -1; must be >= 1"})
    void read_wrongTypeUnknownKeyOrBadValue_messageGivesThePathLineAndCause(String more, String where, String what,
                                                                             @TempDir Path dir) throws Exception {
        String m = fileError(", " + more, dir);
        assertTrue(m.contains("c.json: " + where), m);
        assertTrue(m.contains(what), m);
    }
}
