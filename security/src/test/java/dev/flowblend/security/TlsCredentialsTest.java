package dev.flowblend.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading certificate files: what start-up refuses (named by config path), and rotation in place. */
class TlsCredentialsTest {
    private static TlsFiles files(Path dir, long refreshSeconds) {
        return new TlsFiles(dir.resolve("tls.crt").toString(), dir.resolve("tls.key").toString(),
                dir.resolve("ca.crt").toString(), refreshSeconds, "worker.security.tls");
    }

    private static BigInteger serial(TlsCredentials c) {
        return c.chain()[0].getSerialNumber();
    }

    @Test
    void load_devCertificate_chainAndIdentity() throws Exception {
        Path dir = Files.createTempDirectory("tls");
        DevCertificates ca = DevCertificates.newCa("test-ca", Duration.ofDays(2));
        ca.issue(dir, "flowblend-small-workers", List.of("flowblend-small-workers", "127.0.0.1"), true, false,
                Duration.ofDays(1));
        try (TlsCredentials c = TlsCredentials.forServer(files(dir, 60))) {
            assertEquals("CN=flowblend-small-workers", c.chain()[0].getSubjectX500Principal().getName());
            assertEquals("flowblend-small-workers", Caller.name(c.chain()[0]));
            c.chain()[0].verify(ca.ca().getPublicKey());
        }
    }

    @Test
    void load_missingOrBrokenFiles_refusedNamingTheConfigPathAndFile(@TempDir Path dir) throws Exception {
        DevCertificates ca = DevCertificates.newCa("test-ca", Duration.ofDays(2));
        ca.issue(dir, "w", List.of("w"), true, false, Duration.ofDays(1));
        Path key = dir.resolve("tls.key");
        Path saved = Files.copy(key, dir.resolve("saved.key"));
        Files.delete(key);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsCredentials.forServer(files(dir, 60)));
        assertEquals("worker.security.tls.key_file " + key + ": no such readable file", e.getMessage());

        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
        e = assertThrows(IllegalArgumentException.class, () -> TlsCredentials.forServer(files(dir, 60)));
        assertTrue(e.getMessage().startsWith("worker.security.tls.key_file " + key + ": "), e.getMessage());

        Files.writeString(dir.resolve("ca.crt"), "garbage");
        Files.copy(saved, key, StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(IllegalArgumentException.class, () -> TlsCredentials.forServer(files(dir, 60)));
        assertTrue(e.getMessage().startsWith("worker.security.tls.ca_file " + dir.resolve("ca.crt") + ": "), e.getMessage());
    }

    @Test
    void load_keyOfAnotherCertificate_refused(@TempDir Path dir) throws Exception {
        DevCertificates ca = DevCertificates.newCa("test-ca", Duration.ofDays(2));
        Path other = dir.resolve("other");
        ca.issue(dir, "w", List.of("w"), true, false, Duration.ofDays(1));
        ca.issue(other, "x", List.of("x"), true, false, Duration.ofDays(1));
        Files.copy(other.resolve("tls.key"), dir.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsCredentials.forServer(files(dir, 60)));
        assertEquals("worker.security.tls.key_file " + dir.resolve("tls.key") + ": the key does not belong to the "
                + "certificate (CN=w)", e.getMessage());
    }

    @Test
    void rotation_newFilesTakeEffect_brokenOnesKeepTheOld(@TempDir Path dir) throws Exception {
        DevCertificates ca = DevCertificates.newCa("test-ca", Duration.ofDays(2));
        ca.issue(dir, "w", List.of("w"), true, false, Duration.ofDays(1));
        try (TlsCredentials c = TlsCredentials.forServer(files(dir, 1))) {
            BigInteger first = serial(c);
            ca.issue(dir, "w", List.of("w"), true, false, Duration.ofDays(1));  // a renewal: new key, new serial
            BigInteger second = awaitChange(c, first);
            assertNotEquals(first, second);

            // a half-written rotation: the certificate replaced, the key not (yet)
            Path elsewhere = dir.resolve("next");
            ca.issue(elsewhere, "w", List.of("w"), true, false, Duration.ofDays(1));
            Files.copy(elsewhere.resolve("tls.crt"), dir.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(2_500);  // two checks pass
            assertEquals(second, serial(c), "a certificate without its key is not installed");
            Files.copy(elsewhere.resolve("tls.key"), dir.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
            assertNotEquals(second, awaitChange(c, second), "once the key arrives the pair loads");
        }
    }

    private static BigInteger awaitChange(TlsCredentials c, BigInteger from) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!serial(c).equals(from)) {
                return serial(c);
            }
            Thread.sleep(50);
        }
        return serial(c);
    }
}
