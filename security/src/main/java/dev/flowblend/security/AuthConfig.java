package dev.flowblend.security;

import static dev.flowblend.runtime.Json.or;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Client authentication by bearer token: the file that lists the accepted tokens (by SHA-256, never
 * in the clear) with each one's limits, re-read every {@code refresh_seconds} so a token is added
 * or revoked without a restart.
 */
public record AuthConfig(String tokensFile, long refreshSeconds) {
    public static final long DEFAULT_REFRESH_SECONDS = 10;

    public AuthConfig {
        if (tokensFile == null || tokensFile.isBlank()) {
            throw new IllegalArgumentException("orchestrator.security.auth.tokens_file is missing; name the token file"
                    + " (./flowblend token writes its entries)");
        }
        if (refreshSeconds < 1 || refreshSeconds > 86_400) {
            throw new IllegalArgumentException("orchestrator.security.auth.refresh_seconds is " + refreshSeconds
                    + "; must be 1 to 86400");
        }
    }

    @JsonCreator
    static AuthConfig of(@JsonProperty("tokens_file") String tokensFile,
                         @JsonProperty("refresh_seconds") Long refreshSeconds) {
        return new AuthConfig(tokensFile, or(refreshSeconds, DEFAULT_REFRESH_SECONDS));
    }
}
