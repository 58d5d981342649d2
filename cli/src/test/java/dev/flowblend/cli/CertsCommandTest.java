package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.security.TlsCredentials;
import dev.flowblend.security.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `flowblend certs`: files in cert-manager's layout that the processes load, each signed by the written CA. */
class CertsCommandTest {
    @Test
    void certs_writesLoadableCertificatesForEachProcess(@TempDir Path dir) throws Exception {
        assertEquals(0, Main.run("certs", "--out", dir.toString(), "--worker", "small=flowblend-small-workers,10.0.0.7"));
        for (String name : new String[] {"orchestrator", "small"}) {
            Path d = dir.resolve(name);
            TlsFiles files = new TlsFiles(d.resolve("tls.crt").toString(), d.resolve("tls.key").toString(),
                    d.resolve("ca.crt").toString(), 60, name);
            try (TlsCredentials c = TlsCredentials.forServer(files)) {
                X509Certificate cert = c.chain()[0];
                X509Certificate ca = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificate(Files.newInputStream(dir.resolve("ca.crt")));
                cert.verify(ca.getPublicKey());
                if (name.equals("small")) {
                    assertEquals("flowblend-small-workers", cert.getSubjectAlternativeNames().iterator().next().get(1));
                    assertEquals(java.util.List.of("1.3.6.1.5.5.7.3.1"), cert.getExtendedKeyUsage(), "server auth only");
                } else {
                    assertEquals(java.util.List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), cert.getExtendedKeyUsage());
                }
            }
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.resolve("tls.key"))));
        }
        assertTrue(Files.notExists(dir.resolve("large")), "only the workers asked for");
    }

    @Test
    void certs_badWorkerSpec_refusedNamingTheOption(@TempDir Path dir) {
        assertEquals(1, Main.run("certs", "--out", dir.toString(), "--worker", "Small"));
        assertTrue(Files.notExists(dir.resolve("ca.crt")));
    }
}
