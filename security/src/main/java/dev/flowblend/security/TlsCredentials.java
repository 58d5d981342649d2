package dev.flowblend.security;

import dev.flowblend.telemetry.Event;
import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One process's certificate, key and CA bundle from {@link TlsFiles}, kept current: every
 * {@code refresh_seconds} the files' modification times and sizes are compared with the last
 * load, and on a change all three are read again. A rotation that does not load (a file half
 * written, a key that does not match its certificate, no certificate in the CA file) keeps the
 * credentials in force and logs {@code tls_reload_failed}; the next check tries again. New
 * handshakes use the new credentials; connections already open keep theirs.
 *
 * <p>Start-up is strict: a file that is missing or does not load is an IllegalArgumentException
 * naming its config path ({@code worker.security.tls.key_file /etc/tls/tls.key: ...}).
 *
 * <p>Thread-safe. Owns one daemon reload thread, stopped by {@link #close}; close after the servers
 * and channels that use these credentials.
 */
public final class TlsCredentials implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TlsCredentials.class.getName());

    private final TlsFiles files;
    private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trust;
    private final ScheduledExecutorService reloader;
    private volatile List<Object> stamp;
    private volatile X509Certificate[] chain;

    private TlsCredentials(TlsFiles files, boolean checkHostname) throws GeneralSecurityException {
        this.files = files;
        // a server checks only the chain of a client certificate; a client also checks the name it dialed
        this.trust = AdvancedTlsX509TrustManager.newBuilder()
                .setVerification(checkHostname ? AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION
                        : AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
                .build();
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tls-reload");
            t.setDaemon(true);
            return t;
        });
    }

    /** Credentials for a server port (a client's certificate, when required, is checked against the CA). */
    public static TlsCredentials forServer(TlsFiles files) {
        return load(files, false);
    }

    /** Credentials for a client: its certificate, and the CA plus host name the server's certificate must match. */
    public static TlsCredentials forClient(TlsFiles files) {
        return load(files, true);
    }

    private static TlsCredentials load(TlsFiles files, boolean checkHostname) {
        TlsCredentials c;
        try {
            c = new TlsCredentials(files, checkHostname);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's TLS trust manager is not available", e);
        }
        try {
            c.reload();
        } catch (IllegalArgumentException e) {
            c.reloader.shutdownNow();
            throw e;
        }
        c.reloader.scheduleWithFixedDelay(c::checkForRotation, files.refreshSeconds(), files.refreshSeconds(),
                TimeUnit.SECONDS);
        LOG.info(Event.of("tls_loaded").with("config", files.path()).with("cert_file", files.certFile())
                .with("subject", c.chain[0].getSubjectX500Principal().getName())
                .with("not_after", c.chain[0].getNotAfter().toInstant()).toString());
        return c;
    }

    /** A TLS server port; {@code requireClientCertificate}: mutual TLS, a caller without a CA-signed certificate fails the handshake. */
    public ServerCredentials serverCredentials(boolean requireClientCertificate) {
        TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keys);
        if (requireClientCertificate) {
            b.trustManager(trust).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
        }
        return b.build();
    }

    /** A TLS client presenting this certificate and trusting the CA bundle. */
    public ChannelCredentials channelCredentials() {
        return TlsChannelCredentials.newBuilder().keyManager(keys).trustManager(trust).build();
    }

    /** The certificate chain in force (its first entry is this process's certificate). */
    public X509Certificate[] chain() {
        return chain.clone();
    }

    private void checkForRotation() {
        try {
            if (!stamp().equals(stamp)) {
                reload();
                LOG.info(Event.of("tls_reloaded").with("config", files.path())
                        .with("subject", chain[0].getSubjectX500Principal().getName())
                        .with("not_after", chain[0].getNotAfter().toInstant()).toString());
            }
        } catch (RuntimeException e) {
            LOG.warning(Event.of("tls_reload_failed").with("config", files.path()).with("reason", e.getMessage())
                    .with("kept", "the credentials loaded before").toString());
        }
    }

    /** Reads all three files; installs them only if every one loads and the key matches the certificate. */
    private synchronized void reload() {
        List<Object> before = stamp();
        X509Certificate[] certs = Pem.certificates(file("cert_file", files.certFile()));
        PrivateKey key = Pem.privateKey(file("key_file", files.keyFile()));
        X509Certificate[] cas = Pem.certificates(file("ca_file", files.caFile()));
        Pem.checkKeyMatches(key, certs[0], files.path() + ".key_file " + files.keyFile());
        try {
            trust.updateTrustCredentials(cas);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(files.path() + ".ca_file " + files.caFile() + ": not a usable CA bundle ("
                    + e.getMessage() + ")", e);
        }
        keys.updateIdentityCredentials(certs, key);
        chain = certs;
        stamp = before;
    }

    /** The file, readable, or an exception naming its config key; its loader names it again if it does not parse. */
    private Pem.Source file(String key, String name) {
        String what = files.path() + "." + key + " " + name;
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(files.path() + "." + key + " is missing");
        }
        Path p = Path.of(name);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(what + ": no such readable file");
        }
        return new Pem.Source(what, p);
    }

    /** What a change of any file shows: each one's modification time and size. */
    private List<Object> stamp() {
        try {
            Object[] s = new Object[6];
            String[] names = {files.certFile(), files.keyFile(), files.caFile()};
            for (int i = 0; i < 3; i++) {
                Path p = Path.of(names[i]);
                s[2 * i] = Files.getLastModifiedTime(p).toMillis();
                s[2 * i + 1] = Files.size(p);
            }
            return List.of(s);
        } catch (IOException | RuntimeException e) {
            return List.of(e.toString());  // unreadable now: differs from any loaded state, so the reload reports it
        }
    }

    @Override
    public void close() {
        reloader.shutdownNow();
    }
}
