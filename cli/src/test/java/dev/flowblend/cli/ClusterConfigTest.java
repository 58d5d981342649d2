package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterConfigTest {
    private static final Path DEMO = Path.of(System.getProperty("flowblend.home", "..")).resolve("deploy/demo.json");

    @Test
    void load_demoConfig_hasThreeProcessesAndTheirJvmOptions() {
        ClusterConfig c = ClusterConfig.load(DEMO);
        assertEquals(List.of("large-0", "small-0"), c.workers().stream().map(w -> w.name()).toList());
        assertEquals(List.of("-XX:+UseSerialGC", "-XX:+AlwaysPreTouch"), c.jvmOptions());
    }

    @Test
    void load_jvmOptionWithSpace_rejectedNamingTheEntry(@TempDir Path dir) throws Exception {
        String json = Files.readString(DEMO).replace("\"-XX:+UseSerialGC\"", "\"-Xmx1g -Xms1g\"");
        Path f = dir.resolve("bad.json");
        Files.writeString(f, json);
        Exception e = assertThrows(Exception.class, () -> ClusterConfig.load(f));
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertTrue(root.getMessage().contains("jvm_options entry '-Xmx1g -Xms1g'"), root.getMessage());
    }

    @Test
    void load_jvmOptionsAbsent_empty(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("plain.json");
        Files.writeString(f, Files.readString(DEMO).replaceFirst("\"jvm_options\": \\[[^]]*],", ""));
        ClusterConfig c = ClusterConfig.load(f);
        assertEquals(List.of(), c.jvmOptions());
        assertEquals(2, c.workers().size());
    }
}
