package dev.flowblend.orchestrator.solver;

import java.util.Locale;

/**
 * What a multistep solver's history does where a plan switches pools (models). Which is right is
 * an empirical question per family: docs/accelerators.md measures both on the bundled pair.
 */
public enum HistoryAtSwitch {
    /** Keep the other model's data predictions: the solver stays at its order across the switch. */
    CARRY,
    /** Forget them: the first step after a switch is first order, as the first step of all is. */
    RESET;

    /** The wire name: "carry" or "reset". */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a wire name (case-insensitive); the error names {@code field} and the choices. */
    public static HistoryAtSwitch parse(String value, String field) {
        String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
        for (HistoryAtSwitch h : values()) {
            if (h.name().equals(v)) {
                return h;
            }
        }
        throw new IllegalArgumentException(field + " is '" + value + "'; must be carry or reset");
    }
}
