package dev.flowblend.security;

import static dev.flowblend.runtime.Json.or;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One end of a TLS link as files on disk, the way a cert-manager Secret mounts them
 * ({@code tls.crt}, {@code tls.key}, {@code ca.crt}): this process's certificate chain and private
 * key (PEM), and the CA bundle that the other end's certificate must chain to. The files are
 * re-read every {@code refresh_seconds}, so a rotated Secret takes effect without a restart.
 *
 * @param path where this block sits in the config file, for messages (e.g. {@code orchestrator.security.tls})
 */
public record TlsFiles(String certFile, String keyFile, String caFile, long refreshSeconds, String path) {
    public static final long DEFAULT_REFRESH_SECONDS = 60;

    public TlsFiles {
        path = path == null ? "tls" : path;
        if (refreshSeconds < 1 || refreshSeconds > 86_400) {
            throw new IllegalArgumentException(path + ".refresh_seconds is " + refreshSeconds + "; must be 1 to 86400");
        }
    }

    /** From a config file: {@code refresh_seconds} may be left out. */
    @JsonCreator
    static TlsFiles of(@JsonProperty("cert_file") String certFile, @JsonProperty("key_file") String keyFile,
                       @JsonProperty("ca_file") String caFile, @JsonProperty("refresh_seconds") Long refreshSeconds) {
        return new TlsFiles(certFile, keyFile, caFile, or(refreshSeconds, DEFAULT_REFRESH_SECONDS), null);
    }

    /** The same files, named {@code newPath} in messages. */
    public TlsFiles at(String newPath) {
        return new TlsFiles(certFile, keyFile, caFile, refreshSeconds, newPath);
    }
}
