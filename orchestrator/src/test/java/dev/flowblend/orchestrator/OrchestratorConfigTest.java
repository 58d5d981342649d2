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

    /** Two pools, large then small, with {@code large} and {@code small} as extra keys of each (e.g. a fallback). */
    private static String twoPools(String large, String small, String more) {
        return "{\"security\": {\"plaintext\": true}, \"pools\": [{\"name\": \"large\", \"model\": \"velocity-large\","
                + " \"endpoints\": [\"a:1\"]" + large + "}, {\"name\": \"small\", \"model\": \"velocity-small\","
                + " \"endpoints\": [\"b:1\"]" + small + "}]" + more + "}";
    }

    private static OrchestratorConfig readTwo(String large, String small, String more) throws Exception {
        return Json.mapper().readValue(twoPools(large, small, more), OrchestratorConfig.class);
    }

    private static String errorTwo(String large, String small, String more) {
        Exception e = assertThrows(Exception.class, () -> readTwo(large, small, more));
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    @Test
    void fallback_unset_smallFallsBackToLargeLargeToNothing() throws Exception {
        OrchestratorConfig c = readTwo("", "", "");
        assertNull(c.pool("small").fallback());
        Fallbacks f = Fallbacks.of(c.pools(), TestCluster.FAMILY);
        assertEquals(java.util.List.of("small", "large"), f.chain("small"));
        assertEquals(java.util.List.of("large"), f.chain("large"));
        assertEquals(java.util.List.of("large"), c.textEncoderPools());
        assertEquals(java.util.List.of("large"), c.decoderPools());
    }

    @Test
    void fallback_noneOrAnotherPool_taken() throws Exception {
        OrchestratorConfig none = readTwo("", ", \"fallback\": \"none\"", "");
        assertEquals("none", none.pool("small").fallback());
        assertNull(Fallbacks.of(none.pools(), TestCluster.FAMILY).fallback("small"));
        OrchestratorConfig up = readTwo(", \"fallback\": \"small\"", ", \"fallback\": \"none\"", "");
        assertEquals(java.util.List.of("large", "small"), Fallbacks.of(up.pools(), TestCluster.FAMILY).chain("large"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "|, \"fallback\": \"lage\"|pools[1].fallback is 'lage', which is not a configured pool; pools are [large, small]"
            + " (or \"none\")",
        "|, \"fallback\": \"small\"|pools[1].fallback is 'small', the pool itself; name another pool, or \"none\"",
        ", \"fallback\": \"small\"|, \"fallback\": \"large\"|pools[0].fallback is 'small', which makes a cycle: "
            + "large -> small -> large; end it with \"none\" somewhere"})
    void fallback_badValue_messageNamesThePathAndTheValue(String large, String small, String message) {
        assertEquals(message, errorTwo(large == null ? "" : large, small, ""));
    }

    @Test
    void fallback_cycleThroughTheDefault_refusedWhenTheFamilyIsKnown() throws Exception {
        OrchestratorConfig c = readTwo(", \"fallback\": \"small\"", "", "");  // small -> large by default
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Fallbacks.of(c.pools(), TestCluster.FAMILY));
        assertEquals("pools[0].fallback is 'small', which makes a cycle: large -> small -> large (a pool of "
                + "velocity-small without a 'fallback' falls back to the first pool of velocity-large); end it with "
                + "\"none\" somewhere", e.getMessage());
    }

    @Test
    void poolNamedNone_refused() {
        Exception e = assertThrows(Exception.class, () -> Json.mapper().readValue("{\"security\": {\"plaintext\": true},"
                + " \"pools\": [{\"name\": \"none\", \"model\": \"velocity-large\", \"endpoints\": [\"a:1\"]}]}",
                OrchestratorConfig.class));
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        assertEquals("pool name 'none' is reserved (\"fallback\": \"none\" means no fallback)", t.getMessage());
    }

    @Test
    void hostPools_listsTakenInOrder() throws Exception {
        OrchestratorConfig c = readTwo("", "", ", \"text_encoder_pools\": [\"small\", \"large\"], \"decoder_pools\": [\"small\"]");
        assertEquals(java.util.List.of("small", "large"), c.textEncoderPools());
        assertEquals(java.util.List.of("small"), c.decoderPools());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"text_encoder_pools\": []|text_encoder_pools is empty; name at least one pool",
        "\"decoder_pools\": [\"large\", \"medium\"]|decoder_pools names 'medium', which is not a configured pool; pools are"
            + " [large, small]"})
    void hostPools_emptyOrUnknownPool_messageNamesTheKeyAndValue(String more, String message) {
        assertEquals(message, errorTwo("", "", ", " + more));
    }
}
