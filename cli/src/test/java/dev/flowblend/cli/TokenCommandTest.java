package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.security.AuthConfig;
import dev.flowblend.security.Principal;
import dev.flowblend.security.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `flowblend token`: the printed token is accepted by the orchestrator's token store; the file holds only its hash. */
class TokenCommandTest {
    private static String[] run(String... args) {
        String[] r = CliRun.run(args);
        r[1] = r[1].trim();
        return r;
    }

    @Test
    void token_issuedThenRevoked_acceptedWithItsLimitsThenGone(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("auth/tokens.json");
        String[] a = run("token", "--file", file.toString(), "--name", "team-a", "--max-running", "2", "--max-queued", "8");
        assertEquals("0", a[0], a[2]);
        String[] b = run("token", "--file", file.toString(), "--name", "team-b");
        assertEquals("0", b[0], b[2]);
        String text = Files.readString(file);
        assertFalse(text.contains(a[1]) || text.contains(b[1]), "the file holds hashes only: " + text);
        Tokens tokens = new Tokens(new AuthConfig(file.toString(), 10), System::nanoTime);
        assertEquals(new Principal("team-a", 2, 8), tokens.authenticate(a[1]).orElseThrow());
        assertEquals(new Principal("team-b", 0, 0), tokens.authenticate(b[1]).orElseThrow());

        String[] again = run("token", "--file", file.toString(), "--name", "team-a");
        assertEquals("1", again[0]);
        assertTrue(again[2].contains("--name 'team-a' already has a token in " + file), again[2]);
        assertEquals("0", run("token", "--file", file.toString(), "--name", "team-a", "--revoke")[0]);
        Tokens after = new Tokens(new AuthConfig(file.toString(), 10), System::nanoTime);
        assertFalse(after.authenticate(a[1]).isPresent());
        assertTrue(after.authenticate(b[1]).isPresent());
    }

    @Test
    void token_badLimit_refusedNamingTheField(@TempDir Path dir) {
        String[] r = run("token", "--file", dir.resolve("t.json").toString(), "--name", "x", "--max-running", "-1");
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("tokens[x].max_running is -1; must be 0 (the orchestrator's limit) to 1000000"), r[2]);
        assertFalse(Files.exists(dir.resolve("t.json")));
    }
}
