package dev.flowblend.security;

import dev.flowblend.runtime.Json;
import dev.flowblend.telemetry.Event;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The accepted client tokens, from a {@link TokenFile}. A call's token is hashed and looked up by
 * its hash, so the comparison reveals nothing through timing and the file never holds a token.
 * The file is checked for changes (modification time and size) at most every refresh_seconds, on
 * the calling thread; a change that fails to parse keeps the tokens read before and is logged, so
 * a bad edit never locks every client out.
 *
 * <p>Thread-safe.
 */
public final class Tokens {
    private static final Logger LOG = Logger.getLogger(Tokens.class.getName());

    private final Path file;
    private final long refreshNanos;
    private final LongSupplier nanoTime;
    private volatile Map<String, Principal> byHash;
    private volatile long nextCheck;
    private FileTime loadedTime;
    private long loadedSize;

    /** Reads the file now: a missing or invalid file at start-up is an error naming it. */
    public Tokens(AuthConfig config, LongSupplier nanoTime) {
        this.file = Path.of(config.tokensFile());
        this.refreshNanos = TimeUnit.SECONDS.toNanos(config.refreshSeconds());
        this.nanoTime = nanoTime;
        try {
            byHash = read();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("orchestrator.security.auth.tokens_file " + file + ": " + message(e), e);
        }
        nextCheck = nanoTime.getAsLong() + refreshNanos;
        LOG.info(Event.of("tokens_loaded").with("file", file).with("tokens", byHash.size()).toString());
    }

    /** The principal of a presented token, if it is one of the file's. */
    public Optional<Principal> authenticate(String token) {
        long now = nanoTime.getAsLong();
        if (now - nextCheck >= 0) {
            refresh(now);
        }
        return Optional.ofNullable(byHash.get(TokenFile.sha256(token)));
    }

    /** How many tokens are accepted now. */
    public int size() {
        return byHash.size();
    }

    private synchronized void refresh(long now) {
        if (now - nextCheck < 0) {
            return;  // another caller just did
        }
        nextCheck = now + refreshNanos;
        try {
            if (Files.getLastModifiedTime(file).equals(loadedTime) && Files.size(file) == loadedSize) {
                return;
            }
            byHash = read();
            LOG.info(Event.of("tokens_reloaded").with("file", file).with("tokens", byHash.size()).toString());
        } catch (IOException | RuntimeException e) {
            LOG.warning(Event.of("tokens_reload_failed").with("file", file).with("reason", message(e))
                    .with("kept_tokens", byHash.size()).toString());
        }
    }

    private Map<String, Principal> read() throws IOException {
        FileTime time = Files.getLastModifiedTime(file);
        long size = Files.size(file);
        TokenFile parsed = Json.read(file, TokenFile.class);
        Map<String, Principal> m = new HashMap<>();
        for (TokenFile.Entry e : parsed == null ? java.util.List.<TokenFile.Entry>of() : parsed.tokens()) {
            m.put(e.sha256(), e.principal());
        }
        loadedTime = time;
        loadedSize = size;
        return Map.copyOf(m);
    }

    private static String message(Exception e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage();
    }
}
