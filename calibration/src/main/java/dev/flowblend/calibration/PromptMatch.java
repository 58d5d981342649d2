package dev.flowblend.calibration;

import dev.flowblend.runtime.Manifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads an evaluator verdict (a label index per head, in manifest order) against a prompt. Pure
 * functions of the manifest's evaluator section; thread-safe.
 */
public final class PromptMatch {
    private PromptMatch() {
    }

    /**
     * The labels as a prompt: the manifest's prompt template with every {head} slot filled ("a red
     * circle moving right"), or the labels joined by spaces where the manifest has no template.
     */
    public static String describe(Manifest.EvaluatorSpec spec, int[] labels) {
        List<String> heads = List.copyOf(spec.heads().keySet());
        String template = spec.promptTemplate();
        StringBuilder joined = new StringBuilder();
        for (int h = 0; h < heads.size(); h++) {
            String label = spec.heads().get(heads.get(h)).get(labels[h]);
            joined.append(h == 0 ? "" : " ").append(label);
            if (template != null) {
                template = template.replace("{" + heads.get(h) + "}", label);
            }
        }
        return template != null ? template : joined.toString();
    }

    /**
     * Whether the prompt says what the labels say. A head named {@code attribute_place}
     * (color_left) whose place is a word of the prompt must find its label in the clause naming
     * that place (clauses split on the word "and"), so two objects with their attributes swapped
     * do not match; any other head's label must be a word anywhere in the prompt.
     */
    public static boolean matches(Manifest.EvaluatorSpec spec, int[] labels, String prompt) {
        List<String> words = List.of(prompt.toLowerCase(Locale.ROOT).trim().split("\\s+"));
        List<List<String>> clauses = new ArrayList<>();
        clauses.add(new ArrayList<>());
        for (String w : words) {
            if (w.equals("and")) {
                clauses.add(new ArrayList<>());
            } else {
                clauses.get(clauses.size() - 1).add(w);
            }
        }
        List<String> heads = List.copyOf(spec.heads().keySet());
        for (int h = 0; h < heads.size(); h++) {
            String head = heads.get(h);
            String label = spec.heads().get(head).get(labels[h]);
            int cut = head.lastIndexOf('_');
            String place = cut < 0 ? null : head.substring(cut + 1);
            List<String> scope = words;
            if (place != null && words.contains(place)) {
                scope = clauses.stream().filter(c -> c.contains(place)).findFirst().orElse(words);
            }
            if (!scope.contains(label)) {
                return false;
            }
        }
        return true;
    }
}
