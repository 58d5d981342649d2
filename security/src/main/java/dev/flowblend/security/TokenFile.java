package dev.flowblend.security;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The accepted client tokens as a file holds them: a name, the SHA-256 of the token (the token
 * itself is never stored), and the token's limits. {@code ./flowblend token} writes entries.
 *
 * <pre>{"tokens": [{"name": "team-a", "sha256": "9f86d0...", "max_running": 2, "max_queued": 8}]}</pre>
 */
public record TokenFile(List<Entry> tokens) {
    /** Every token we issue starts so, which makes a leaked one easy to find by secret scanners. */
    public static final String PREFIX = "fbt_";

    public TokenFile {
        tokens = tokens == null ? List.of() : List.copyOf(tokens);
        Set<String> names = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (int i = 0; i < tokens.size(); i++) {
            Entry e = tokens.get(i);
            if (e == null) {
                throw new IllegalArgumentException("tokens[" + i + "] is null");
            }
            if (!names.add(e.name())) {
                throw new IllegalArgumentException("tokens[" + i + "].name '" + e.name() + "' is used twice");
            }
            if (!hashes.add(e.sha256())) {
                throw new IllegalArgumentException("tokens[" + i + "].sha256 repeats an earlier entry's");
            }
        }
    }

    /** One accepted token. */
    public record Entry(String name, String sha256, int maxRunning, int maxQueued) {
        public Entry {
            if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("tokens[].name '" + name + "' must be 1-64 of [A-Za-z0-9._-]");
            }
            if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("tokens[" + name + "].sha256 must be 64 lowercase hex digits"
                        + " (the SHA-256 of the token; ./flowblend token writes it)");
            }
            if (maxRunning < 0 || maxRunning > 1_000_000) {
                throw new IllegalArgumentException("tokens[" + name + "].max_running is " + maxRunning
                        + "; must be 0 (the orchestrator's limit) to 1000000");
            }
            if (maxQueued < 0 || maxQueued > 1_000_000) {
                throw new IllegalArgumentException("tokens[" + name + "].max_queued is " + maxQueued
                        + "; must be 0 (the orchestrator's limit) to 1000000");
            }
        }

        @JsonCreator
        static Entry of(@JsonProperty("name") String name, @JsonProperty("sha256") String sha256,
                        @JsonProperty("max_running") Integer maxRunning, @JsonProperty("max_queued") Integer maxQueued) {
            return new Entry(name, sha256, maxRunning == null ? 0 : maxRunning, maxQueued == null ? 0 : maxQueued);
        }

        Principal principal() {
            return new Principal(name, maxRunning, maxQueued);
        }
    }

    /** The hex SHA-256 of a token's UTF-8 bytes: what the file stores and a call's token is compared by. */
    public static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** A new random token: {@link #PREFIX} and 32 bytes from a SecureRandom, base64url. */
    public static String newToken(SecureRandom random) {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
