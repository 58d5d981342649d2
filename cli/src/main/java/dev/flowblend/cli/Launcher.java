package dev.flowblend.cli;

import java.nio.file.Path;

/** Where the launcher runs from: ./flowblend sets flowblend.home to the repository root. */
final class Launcher {
    private Launcher() {
    }

    static Path home() {
        return Path.of(System.getProperty("flowblend.home", "."));
    }
}
