package dev.flowblend.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;

/**
 * The part of cert-manager's v1 API (cert-manager.io/v1 Issuer and Certificate) that the manifests
 * use, as strict types for {@link KubeRender}: fabric8's own cert-manager model is not among the
 * artifacts this build can resolve, and a field outside this subset should fail the test rather
 * than pass unchecked. Field names and meanings follow cert-manager's API reference.
 */
public final class CertManagerModel {
    static final String API_VERSION = "cert-manager.io/v1";

    private CertManagerModel() {
    }

    /** What both kinds share: apiVersion, kind, metadata. Bound as itself, not by fabric8's polymorphic deserializer. */
    @JsonDeserialize(using = JsonDeserializer.None.class)
    public abstract static class Resource implements HasMetadata {
        private String apiVersion;
        private String kind;
        private ObjectMeta metadata;

        @Override
        public ObjectMeta getMetadata() {
            return metadata;
        }

        @Override
        public void setMetadata(ObjectMeta metadata) {
            this.metadata = metadata;
        }

        @Override
        public String getApiVersion() {
            return apiVersion;
        }

        @Override
        public void setApiVersion(String apiVersion) {
            this.apiVersion = apiVersion;
        }

        @Override
        public String getKind() {
            return kind;
        }

        public void setKind(String kind) {
            this.kind = kind;
        }
    }

    public static final class Issuer extends Resource {
        private IssuerSpec spec;

        public IssuerSpec getSpec() {
            return spec;
        }

        public void setSpec(IssuerSpec spec) {
            this.spec = spec;
        }
    }

    public static final class Certificate extends Resource {
        private CertificateSpec spec;

        public CertificateSpec getSpec() {
            return spec;
        }

        public void setSpec(CertificateSpec spec) {
            this.spec = spec;
        }
    }

    /** Exactly one of selfSigned (an empty object) and ca. */
    public record IssuerSpec(SelfSigned selfSigned, CaIssuer ca) {
    }

    public record SelfSigned() {
    }

    public record CaIssuer(String secretName) {
    }

    public record CertificateSpec(String secretName, String commonName, List<String> dnsNames, List<String> usages,
                           String duration, String renewBefore, @JsonProperty("isCA") Boolean isCA,
                           PrivateKey privateKey, IssuerRef issuerRef) {
    }

    public record PrivateKey(String algorithm, Integer size, String rotationPolicy) {
    }

    public record IssuerRef(String name, String kind, String group) {
    }
}
