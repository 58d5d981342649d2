package dev.flowblend.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.Manifest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromptMatchTest {
    private static final List<String> COLORS = List.of("red", "blue");
    private static final List<String> SHAPES = List.of("circle", "square");

    private static Manifest.EvaluatorSpec oneObject() {
        Map<String, List<String>> heads = new LinkedHashMap<>();
        heads.put("color", COLORS);
        heads.put("shape", SHAPES);
        return new Manifest.EvaluatorSpec(heads, "features", 4, null, "a {color} {shape}");
    }

    private static Manifest.EvaluatorSpec twoObjects(String template) {
        Map<String, List<String>> heads = new LinkedHashMap<>();
        for (String side : List.of("left", "right")) {
            heads.put("color_" + side, COLORS);
            heads.put("shape_" + side, SHAPES);
        }
        return new Manifest.EvaluatorSpec(heads, "features", 4, null, template);
    }

    @Test
    void oneObjectLabelsMayStandAnywhere() {
        Manifest.EvaluatorSpec spec = oneObject();
        assertEquals("a blue circle", PromptMatch.describe(spec, new int[] {1, 0}));
        assertTrue(PromptMatch.matches(spec, new int[] {1, 0}, "The  BLUE circle"));
        assertFalse(PromptMatch.matches(spec, new int[] {0, 0}, "a blue circle"));
    }

    @Test
    void placedHeadsAreReadInTheClauseNamingTheirPlace() {
        Manifest.EvaluatorSpec spec = twoObjects("a {color_left} {shape_left} on the left and a {color_right} {shape_right} on the right");
        int[] redCircleLeftBlueSquareRight = {0, 0, 1, 1};
        assertEquals("a red circle on the left and a blue square on the right",
                PromptMatch.describe(spec, redCircleLeftBlueSquareRight));
        assertTrue(PromptMatch.matches(spec, redCircleLeftBlueSquareRight,
                "a red circle on the left and a blue square on the right"));
        assertTrue(PromptMatch.matches(spec, redCircleLeftBlueSquareRight,
                "the blue square on the right and the red circle on the left"), "either order");
        assertFalse(PromptMatch.matches(spec, redCircleLeftBlueSquareRight,
                "a blue circle on the left and a red square on the right"), "colors swapped between the objects");
    }

    @Test
    void withoutTemplateTheLabelsAreJoined() {
        Manifest.EvaluatorSpec spec = twoObjects(null);
        assertEquals("red circle blue square", PromptMatch.describe(spec, new int[] {0, 0, 1, 1}));
    }
}
