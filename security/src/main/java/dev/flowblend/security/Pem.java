package dev.flowblend.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * PEM files as cert-manager and {@code ./flowblend certs} write them: certificate chains and CA
 * bundles, and an unencrypted private key in PKCS#8 ({@code PRIVATE KEY}), SEC1
 * ({@code EC PRIVATE KEY}) or PKCS#1 ({@code RSA PRIVATE KEY}) form. Every failure is an
 * IllegalArgumentException that names the source.
 */
final class Pem {
    /** A file and how messages name it (its config key and path). */
    record Source(String what, Path path) {
    }

    private Pem() {
    }

    static X509Certificate[] certificates(Source s) {
        try {
            Collection<? extends java.security.cert.Certificate> certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(s.path())));
            if (certs.isEmpty()) {
                throw new IllegalArgumentException(s.what() + ": holds no PEM certificate");
            }
            return certs.stream().map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(s.what() + ": not a PEM certificate file (" + e.getMessage() + ")", e);
        }
    }

    static PrivateKey privateKey(Source s) {
        try (PEMParser parser = new PEMParser(new StringReader(Files.readString(s.path(), StandardCharsets.US_ASCII)))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter convert = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo info) {
                return convert.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair pair) {
                return convert.getKeyPair(pair).getPrivate();
            }
            throw new IllegalArgumentException(s.what() + ": holds no unencrypted PEM private key"
                    + (o == null ? "" : " (found " + o.getClass().getSimpleName() + ")"));
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage().startsWith(s.what())) {
                throw iae;
            }
            throw new IllegalArgumentException(s.what() + ": not a PEM private key (" + e.getMessage() + ")", e);
        }
    }

    /** Signs a challenge with {@code key} and verifies it with the certificate's public key. */
    static void checkKeyMatches(PrivateKey key, X509Certificate cert, String what) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException(what + ": key algorithm " + key.getAlgorithm()
                    + " is not supported (EC, RSA or Ed25519)");
        };
        byte[] challenge = "flowblend key check".getBytes(StandardCharsets.US_ASCII);
        boolean ok;
        try {
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(challenge);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(challenge);
            ok = verify.verify(signature);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw new IllegalArgumentException(what + ": the key does not belong to the certificate ("
                    + cert.getSubjectX500Principal().getName() + ")");
        }
    }
}
