package dev.flowblend.cli;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Renders a kustomization with {@code kubectl kustomize} (or {@code kustomize build}) and reads every object into fabric8's
 * typed Kubernetes model, strictly: an object of a kind/apiVersion we do not deploy, a field the
 * model does not know (anywhere in the object), a scalar of the wrong type, or a duplicate key is
 * a problem. fabric8 keeps unknown fields in each object's additionalProperties instead of
 * failing, so after binding every model object reachable from the document is walked, through
 * Jackson's own view of its properties, and any additionalProperties entry is reported by path.
 */
final class KubeRender {
    /** apiVersion/kind → typed model: the kinds flowblend's manifests may hold. */
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/Namespace", Namespace.class,
            "v1/ConfigMap", ConfigMap.class,
            "v1/Service", Service.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "apps/v1/Deployment", Deployment.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class,
            CertManagerModel.API_VERSION + "/Issuer", CertManagerModel.Issuer.class,
            CertManagerModel.API_VERSION + "/Certificate", CertManagerModel.Certificate.class);

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    private static final ObjectMapper TYPED = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    private KubeRender() {
    }

    /** The rendered objects of one kustomization and what was wrong with the documents themselves. */
    record Rendered(String source, List<HasMetadata> objects, List<String> problems) {
        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> Optional<T> named(Class<T> type, String name) {
            return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
        }
    }

    /** An executable of that name on the PATH, if any. */
    static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * The command that renders a kustomization given as its last argument: {@code kubectl
     * kustomize} when kubectl's built-in kustomize is v5 or later (the manifests are tested with
     * kubectl 1.32, kustomize v5.5.0), else {@code kustomize build}. Empty, with the reasons in
     * {@code why}, when neither is there.
     */
    static Optional<List<String>> renderer(List<String> why) throws IOException, InterruptedException {
        Optional<Path> kubectl = onPath("kubectl");
        if (kubectl.isPresent()) {
            String version = TYPED.readTree(run(List.of(kubectl.get().toString(), "version", "--client", "-o", "json")))
                    .path("kustomizeVersion").asText("none");
            if (version.matches("v([5-9]|\\d{2,})\\..*")) {
                return Optional.of(List.of(kubectl.get().toString(), "kustomize"));
            }
            why.add(kubectl.get() + " has kustomize '" + version + "', older than v5");
        } else {
            why.add("kubectl is not on the PATH");
        }
        Optional<Path> kustomize = onPath("kustomize");
        if (kustomize.isPresent()) {
            return Optional.of(List.of(kustomize.get().toString(), "build"));
        }
        why.add("kustomize is not on the PATH");
        return Optional.empty();
    }

    /** Renders the kustomization {@code dir} with {@code renderer}: the multi-document YAML; a failed render throws. */
    static String kustomize(List<String> renderer, Path dir) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(renderer);
        cmd.add(dir.toString());
        return run(cmd);
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("kustomize", ".out");
        Path err = Files.createTempFile("kustomize", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): "
                        + Files.readString(err, StandardCharsets.UTF_8).strip());
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static Rendered render(List<String> renderer, Path dir) throws IOException, InterruptedException {
        return parse(dir.toString(), kustomize(renderer, dir));
    }

    /** Every document of {@code yaml} as a typed object; what could not be typed cleanly goes to problems. */
    static Rendered parse(String source, String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                docs.add(it.nextValue());
            }
        } catch (IOException e) {
            problems.add(source + ": not valid YAML: " + e.getMessage());
        }
        for (JsonNode doc : docs) {
            if (doc == null || doc.isNull() || doc.isEmpty()) {
                continue;
            }
            String what = doc.path("kind").asText("?") + " " + doc.path("metadata").path("name").asText("?");
            String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
            Class<? extends HasMetadata> type = KINDS.get(key);
            if (type == null) {
                problems.add(what + ": apiVersion/kind '" + key + "' is not one the manifests may use " + KINDS.keySet());
                continue;
            }
            try {
                HasMetadata o = TYPED.treeToValue(doc, type);
                unknownFields(o, "", what, problems, 0);
                objects.add(o);
            } catch (JsonMappingException e) {
                problems.add(what + ": " + e.getOriginalMessage().lines().findFirst().orElse("") + " at "
                        + e.getPathReference());
            } catch (IOException e) {
                problems.add(what + ": " + e.getMessage());
            }
        }
        return new Rendered(source, List.copyOf(objects), List.copyOf(problems));
    }

    /** Reports every additionalProperties entry reachable from {@code o}, by its path in the document. */
    private static void unknownFields(Object o, String path, String what, List<String> problems, int depth) {
        if (o == null || depth > 64) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                unknownFields(e, path + "[" + i++ + "]", what, problems, depth + 1);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, path + "." + k, what, problems, depth + 1));
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")
                && !o.getClass().getName().startsWith(CertManagerModel.class.getName())) {
            return;  // a String, number, boolean or enum: a leaf
        }
        try {
            Object extra = o.getClass().getMethod("getAdditionalProperties").invoke(o);
            if (extra instanceof Map<?, ?> m) {
                for (Object k : m.keySet()) {
                    problems.add(what + ": unknown field '" + k + "' at " + (path.isEmpty() ? "" : path.substring(1) + ".")
                            + k + " (not a field of " + o.getClass().getSimpleName() + ")");
                }
            }
        } catch (NoSuchMethodException e) {
            // a model class without an any-setter: Jackson itself rejected unknown fields in it
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read additionalProperties of " + o.getClass(), e);
        }
        BeanDescription bean = TYPED.getSerializationConfig().introspect(TYPED.constructType(o.getClass()));
        for (BeanPropertyDefinition p : bean.findProperties()) {
            AnnotatedMember getter = p.getAccessor();
            if (getter != null && !p.getName().equals("additionalProperties")) {
                unknownFields(getter.getValue(o), path + "." + p.getName(), what, problems, depth + 1);
            }
        }
    }
}
