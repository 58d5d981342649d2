package dev.flowblend.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is calling, as the transport proved it, for per-caller budgets and log lines: on a mutual-TLS
 * port the client certificate's first DNS name (else its CN), prefixed {@code tls:}; on a
 * plaintext port {@code plaintext:<ip>}; {@code local} for in-process transport (tests).
 *
 * <p>A ServerInterceptor puts the identity in the gRPC Context; {@link #current()} reads it on the
 * call's thread. Thread-safe and stateless.
 */
public final class Caller implements ServerInterceptor {
    private static final Context.Key<String> CALLER = Context.key("flowblend-caller");
    public static final String LOCAL = "local";

    /** The current call's caller; {@link #LOCAL} outside an intercepted call. */
    public static String current() {
        String c = CALLER.get();
        return c == null ? LOCAL : c;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        String id = identify(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION),
                call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        return Contexts.interceptCall(Context.current().withValue(CALLER, id), call, headers, next);
    }

    static String identify(SSLSession tls, SocketAddress remote) {
        if (tls != null) {
            try {
                Certificate[] peer = tls.getPeerCertificates();
                if (peer.length > 0 && peer[0] instanceof X509Certificate x) {
                    return "tls:" + name(x);
                }
            } catch (SSLPeerUnverifiedException e) {
                // a TLS port that does not ask for client certificates: the address is all we know
            }
            return "tls:" + address(remote);
        }
        if (remote instanceof InetSocketAddress) {
            return "plaintext:" + address(remote);
        }
        return LOCAL;
    }

    /** The certificate's first DNS subject alternative name, else its subject CN, else its whole subject. */
    static String name(X509Certificate cert) {
        try {
            Collection<List<?>> alt = cert.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (Integer.valueOf(2).equals(entry.get(0))) {  // 2: dNSName (RFC 5280)
                        return String.valueOf(entry.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // fall through to the subject
        }
        String subject = cert.getSubjectX500Principal().getName();
        try {
            for (Rdn rdn : new LdapName(subject).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            // the whole subject, below
        }
        return subject;
    }

    private static String address(SocketAddress remote) {
        return remote instanceof InetSocketAddress a && a.getAddress() != null ? a.getAddress().getHostAddress()
                : String.valueOf(remote);
    }
}
