package dev.flowblend.security;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private CA for development and tests, and leaf certificates signed by it, written in the
 * layout cert-manager gives a mounted Secret: {@code DIR/tls.crt}, {@code DIR/tls.key} (PKCS#8,
 * mode 600), {@code DIR/ca.crt}. ECDSA P-256 keys, SHA-256 signatures. In production cert-manager
 * (or another issuer) makes these; nothing here is meant to replace it.
 */
public final class DevCertificates {
    private final SecureRandom random;
    private final KeyPair caKeys;
    private final X509Certificate ca;

    private DevCertificates(SecureRandom random, KeyPair caKeys, X509Certificate ca) {
        this.random = random;
        this.caKeys = caKeys;
        this.ca = ca;
    }

    /** A new self-signed CA named {@code commonName}, valid from now for {@code validity}. */
    public static DevCertificates newCa(String commonName, Duration validity) {
        SecureRandom random = new SecureRandom();
        KeyPair keys = keyPair(random);
        X500Principal name = new X500Principal("CN=" + commonName);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(random),
                Date.from(now.minusSeconds(60)), Date.from(now.plus(validity)), name, keys.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new DevCertificates(random, keys, sign(b, keys));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a CA certificate: " + e.getMessage(), e);
        }
    }

    public X509Certificate ca() {
        return ca;
    }

    /**
     * Signs a certificate for {@code commonName} and {@code dnsNames} (IP literals become IP
     * addresses) and writes tls.crt, tls.key and ca.crt into {@code dir}.
     *
     * @param server usable as a TLS server certificate
     * @param client usable as a TLS client certificate (mutual TLS)
     */
    public void issue(Path dir, String commonName, List<String> dnsNames, boolean server, boolean client,
                      Duration validity) {
        KeyPair keys = keyPair(random);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(random), Date.from(now.minusSeconds(60)),
                Date.from(now.plus(validity)), new X500Principal("CN=" + commonName), keys.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            List<KeyPurposeId> purposes = new ArrayList<>();
            if (server) {
                purposes.add(KeyPurposeId.id_kp_serverAuth);
            }
            if (client) {
                purposes.add(KeyPurposeId.id_kp_clientAuth);
            }
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
            if (!dnsNames.isEmpty()) {
                GeneralName[] names = dnsNames.stream().map(n -> new GeneralName(
                        n.matches("[0-9.]+|.*:.*") ? GeneralName.iPAddress : GeneralName.dNSName, n)).toArray(GeneralName[]::new);
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            X509Certificate cert = sign(b, caKeys);
            Files.createDirectories(dir);
            write(dir.resolve("tls.crt"), pem(cert), false);
            write(dir.resolve("tls.key"), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(keys.getPrivate(), null)), true);
            write(dir.resolve("ca.crt"), pem(ca), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write certificates to " + dir + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a certificate for " + commonName + ": " + e.getMessage(), e);
        }
    }

    /** Writes only the CA certificate (a client's --tls-ca). */
    public void writeCa(Path file) {
        try {
            write(file, pem(ca), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static KeyPair keyPair(SecureRandom random) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot make EC P-256 keys", e);
        }
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(o);
        }
        return s.toString();
    }

    /** Writes via a temporary file and a rename, so a process reloading the directory never reads half a file. */
    private static void write(Path file, String text, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".tmp-", ".pem");
        try {
            // on a file system without POSIX permissions the directory's own permissions apply
            if (secret && tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            }
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
