package dev.flowblend.cli;

import dev.flowblend.runtime.ModelFamily;
import java.nio.file.Path;

/** Where the launcher runs from: ./flowblend sets flowblend.home to the repository root. */
final class Launcher {
    private Launcher() {
    }

    static Path home() {
        return Path.of(System.getProperty("flowblend.home", "."));
    }

    /** The family from --models, else the config's models_dir, else the bundled one. */
    static ModelFamily family(Path flag, String configured) {
        return ModelFamily.load(flag != null ? flag
                : configured != null ? Path.of(configured) : ModelFamily.defaultDirectory());
    }
}
