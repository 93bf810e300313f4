package io.pgmux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for TLS tests: it writes its own certificate, and certificates it issues with
 * their keys, as PEM files (keys PKCS#8, unencrypted) into a directory, and a DER copy of each key for pgjdbc.
 */
final class TestCertificates {
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

    /** A key type a certificate may have. */
    enum KeyType {
        RSA,
        EC
    }

    /** An issued certificate: PEM certificate, PEM PKCS#8 key, and the same key as DER (pgjdbc's .pk8). */
    record Issued(Path cert, Path key, Path derKey) {}

    private final Path dir;
    private final String name;
    private final X500Name subject;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final Path certFile;

    private TestCertificates(Path dir, String name, X500Name subject, KeyPair keys, X509Certificate certificate) {
        this.dir = dir;
        this.name = name;
        this.subject = subject;
        this.keys = keys;
        this.certificate = certificate;
        this.certFile = dir.resolve(name + "-ca.crt");
        writePem(certFile, "CERTIFICATE", encoded(certificate));
    }

    /** A new self-signed CA named {@code name}; its certificate goes to {@code dir/<name>-ca.crt}. */
    static TestCertificates authority(Path dir, String name) {
        KeyPair keys = generate(KeyType.EC);
        X500Name subject = new X500Name("CN=" + name + " test CA");
        X509v3CertificateBuilder builder = builder(subject, subject, keys);
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TestCertificates(dir, name, subject, keys, sign(builder, keys.getPrivate()));
    }

    /** The CA certificate (PEM). */
    Path caCert() {
        return certFile;
    }

    /**
     * Issues a certificate for {@code commonName} with a new key of {@code type}; {@code hosts} become subject
     * alternative names (IP addresses or DNS names), for a server certificate.
     */
    Issued issue(String commonName, KeyType type, String... hosts) {
        KeyPair pair = generate(type);
        X509v3CertificateBuilder builder = builder(subject, new X500Name("CN=" + commonName), pair);
        try {
            if (hosts.length > 0) {
                List<GeneralName> names = new ArrayList<>();
                for (String host : hosts) {
                    names.add(new GeneralName(
                            host.matches("[0-9.]+") ? GeneralName.iPAddress : GeneralName.dNSName, host));
                }
                builder.addExtension(
                        Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        X509Certificate issued = sign(builder, keys.getPrivate());
        String base = name + "-" + commonName.replaceAll("[^A-Za-z0-9_.-]", "_");
        Path cert = dir.resolve(base + ".crt");
        Path key = dir.resolve(base + ".key");
        Path derKey = dir.resolve(base + ".pk8");
        writePem(cert, "CERTIFICATE", encoded(issued));
        writePem(key, "PRIVATE KEY", pair.getPrivate().getEncoded());
        try {
            Files.write(derKey, pair.getPrivate().getEncoded());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Issued(cert, key, derKey);
    }

    /** Sockets that trust this CA only, for a raw client. */
    SSLSocketFactory socketFactory() {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("ca", certificate);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(
                issuer,
                BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))),
                subject,
                keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey) {
        try {
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a test certificate", e);
        }
    }

    private static KeyPair generate(KeyType type) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(type.name());
            if (type == KeyType.EC) {
                generator.initialize(new ECGenParameterSpec("secp256r1"));
            } else {
                generator.initialize(2048);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encoded(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writePem(Path file, String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der);
        String pem = "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
        try {
            Files.writeString(file, pem, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
