package dev.flowblend.capacity;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's docs/capacity folder, wherever Maven runs the tests from. */
final class Docs {
    private Docs() {
    }

    static Path file(String name) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("docs").resolve("capacity");
            if (Files.isDirectory(d)) {
                return d.resolve(name);
            }
        }
        throw new IllegalStateException("no docs/capacity above " + Path.of("").toAbsolutePath());
    }
}
