package dev.flowblend.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token file: hashed entries, lookups, reloads on a fake clock, bad files. */
class TokensTest {
    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(1_000);

    private static String entry(String name, String token, int running, int queued) {
        return "{\"name\": \"" + name + "\", \"sha256\": \"" + TokenFile.sha256(token) + "\", \"max_running\": " + running
                + ", \"max_queued\": " + queued + "}";
    }

    private Path write(String... entries) throws Exception {
        Path f = dir.resolve("tokens.json");
        Files.writeString(f, "{\"tokens\": [" + String.join(", ", entries) + "]}");
        return f;
    }

    @Test
    void authenticate_knownTokenGivesItsPrincipal_unknownNone() throws Exception {
        String token = TokenFile.newToken(new SecureRandom());
        assertTrue(token.startsWith("fbt_") && token.length() == 4 + 43, token);
        Tokens t = new Tokens(new AuthConfig(write(entry("team-a", token, 2, 8)).toString(), 10), clock::get);
        assertEquals(new Principal("team-a", 2, 8), t.authenticate(token).orElseThrow());
        assertFalse(t.authenticate(token + "x").isPresent());
        assertFalse(t.authenticate("").isPresent());
        assertFalse(Files.readString(dir.resolve("tokens.json")).contains(token), "the file holds only the hash");
    }

    @Test
    void authenticate_fileChanged_newTokensAcceptedOnlyAfterRefreshSeconds() throws Exception {
        Path f = write(entry("old", "tok-old", 0, 0));
        Tokens t = new Tokens(new AuthConfig(f.toString(), 10), clock::get);
        write(entry("new", "tok-new", 0, 0));
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(9));
        assertTrue(t.authenticate("tok-old").isPresent(), "not yet re-read at 9 s");
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        assertFalse(t.authenticate("tok-old").isPresent(), "revoked once re-read at 10 s");
        assertEquals("new", t.authenticate("tok-new").orElseThrow().name());
    }

    @Test
    void authenticate_fileBrokenByAnEdit_keepsTheTokensReadBefore() throws Exception {
        Path f = write(entry("team-a", "tok-a", 0, 0));
        Tokens t = new Tokens(new AuthConfig(f.toString(), 1), clock::get);
        Files.writeString(f, "{\"tokens\": [");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
        assertTrue(t.authenticate("tok-a").isPresent());
        assertEquals(1, t.size());
    }

    @Test
    void construct_missingOrInvalidFile_errorNamesTheKeyAndTheProblem() throws Exception {
        String missing = dir.resolve("nope.json").toString();
        assertEquals("orchestrator.security.auth.tokens_file " + missing + ": no such file",
                assertThrows(IllegalArgumentException.class,
                        () -> new Tokens(new AuthConfig(missing, 10), clock::get)).getMessage());
        Path bad = write("{\"name\": \"x\", \"sha256\": \"abc\"}");
        String m = assertThrows(IllegalArgumentException.class,
                () -> new Tokens(new AuthConfig(bad.toString(), 10), clock::get)).getMessage();
        assertTrue(m.contains("tokens[x].sha256 must be 64 lowercase hex digits"), m);
        Path twice = write(entry("a", "t1", 0, 0), entry("a", "t2", 0, 0));
        m = assertThrows(IllegalArgumentException.class,
                () -> new Tokens(new AuthConfig(twice.toString(), 10), clock::get)).getMessage();
        assertTrue(m.contains("tokens[1].name 'a' is used twice"), m);
        Path negative = write(entry("a", "t1", -1, 0));
        m = assertThrows(IllegalArgumentException.class,
                () -> new Tokens(new AuthConfig(negative.toString(), 10), clock::get)).getMessage();
        assertTrue(m.contains("tokens[a].max_running is -1; must be 0 (the orchestrator's limit) to 1000000"), m);
    }
}
