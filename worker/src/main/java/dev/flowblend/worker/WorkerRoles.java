package dev.flowblend.worker;

import dev.flowblend.runtime.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Role defaults shipped by the deployment modules: large-worker contributes
 * /dev/flowblend/roles/large.json, small-worker /dev/flowblend/roles/small.json. A role is only a
 * configuration of this one worker implementation.
 */
public final class WorkerRoles {
    private WorkerRoles() {
    }

    /** The default configuration of a role; the exception names the role and where it was looked for. */
    public static WorkerConfig load(String role) {
        String path = "/dev/flowblend/roles/" + role + ".json";
        try (InputStream in = WorkerRoles.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("no worker role '" + role + "' (looked for " + path
                        + " on the classpath; roles ship with the large-worker and small-worker modules)");
            }
            return Json.mapper().readValue(in, WorkerConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException("reading worker role " + path, e);
        }
    }
}
