package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.runtime.ModelFamily;

/**
 * Coverage-guided fuzzing of the orchestrator's request validation ({@link GenerationRequests}),
 * from structured requests and from raw protobuf bytes. Invariant: a request is accepted (a spec
 * within the limits) or refused with a message (the service's INVALID_ARGUMENT description);
 * nothing else escapes. Regression inputs: src/test/resources/dev/flowblend/orchestrator/
 * GenerationRequestsFuzzTestInputs/; docs/reliability.md#fuzzing.
 */
class GenerationRequestsFuzzTest {
    private static final GenerationRequests REQUESTS = FuzzedGenerateRequests.parser(
            ModelFamily.load(ModelFamily.defaultDirectory()));

    @FuzzTest(maxDuration = "60s")
    void parse_structuredRequest_specWithinLimitsOrRefusedWithMessage(FuzzedDataProvider data) {
        check(FuzzedGenerateRequests.build(data, 1001));
    }

    @FuzzTest(maxDuration = "60s")
    void parse_protobufBytes_specWithinLimitsOrRefusedWithMessage(byte[] bytes) {
        GenerateRequest r;
        try {
            r = GenerateRequest.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return;  // not a message: the transport refuses it (OrchestratorNetworkFuzzTest)
        }
        check(r);
    }

    static void check(GenerateRequest r) {
        GenerationSpec spec;
        try {
            spec = REQUESTS.parse(r);
        } catch (GenerationRequests.Invalid e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a refusal says why");
            return;
        }
        OrchestratorConfig.Limits l = OrchestratorConfig.Limits.DEFAULT;
        assertTrue(spec.steps() >= 1 && spec.steps() <= l.maxSteps(), () -> "steps " + spec.steps());
        assertTrue(spec.guidance() >= 1 && spec.guidance() <= l.maxGuidanceScale(), () -> "guidance " + spec.guidance());
        assertTrue(!spec.prompt().isBlank() && r.getPrompt().length() <= l.maxPromptChars());
        assertEquals(16, spec.promptTokens().ids().length, "token ids are padded to the encoder's length");
        assertTrue(Integer.toUnsignedLong(r.getVideoScale()) <= 16);
    }
}
