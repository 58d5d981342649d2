package dev.flowblend.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowblend.runtime.Json;
import dev.flowblend.security.TokenFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Issues a client token: adds its name, SHA-256 and limits to the orchestrator's token file
 * (creating it) and prints the token once — the file never holds it. The file is replaced
 * atomically, so an orchestrator re-reading it never sees half a file.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Issue a client bearer token: add it (hashed) to a token file and print the token once.")
final class TokenCommand implements Callable<Integer> {
    @Option(names = "--file", required = true, description = "The token file (orchestrator.security.auth.tokens_file).")
    Path file;

    @Option(names = "--name", required = true, description = "Who the token is for: 1-64 of [A-Za-z0-9._-], unique in the file.")
    String name;

    @Option(names = "--max-running", description = "Generations this token may run at once (0: the orchestrator's limit; default ${DEFAULT-VALUE}).")
    int maxRunning = 0;

    @Option(names = "--max-queued", description = "Generations this token may have waiting (0: the orchestrator's limit; default ${DEFAULT-VALUE}).")
    int maxQueued = 0;

    @Option(names = "--revoke", description = "Remove the token named --name instead of issuing one.")
    boolean revoke;

    @Override
    public Integer call() throws Exception {
        List<TokenFile.Entry> entries = new ArrayList<>(Files.exists(file)
                ? Json.read(file, TokenFile.class).tokens() : List.of());
        String token = null;
        if (revoke) {
            if (!entries.removeIf(e -> e.name().equals(name))) {
                throw new IllegalArgumentException("--name '" + name + "': no such token in " + file);
            }
        } else {
            if (entries.stream().anyMatch(e -> e.name().equals(name))) {
                throw new IllegalArgumentException("--name '" + name + "' already has a token in " + file
                        + "; --revoke it first or pick another name");
            }
            token = TokenFile.newToken(new SecureRandom());
            entries.add(new TokenFile.Entry(name, TokenFile.sha256(token), maxRunning, maxQueued));
        }
        new TokenFile(entries);  // the same checks the orchestrator makes
        write(entries);
        if (token != null) {
            System.out.println(token);
        }
        return 0;
    }

    private void write(List<TokenFile.Entry> entries) throws Exception {
        ObjectNode root = Json.mapper().createObjectNode();
        ArrayNode list = root.putArray("tokens");
        for (TokenFile.Entry e : entries) {
            list.addObject().put("name", e.name()).put("sha256", e.sha256()).put("max_running", e.maxRunning())
                    .put("max_queued", e.maxQueued());
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".tokens", ".json");
        // on a file system without POSIX permissions the directory's own permissions apply
        if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        }
        Files.writeString(tmp, Json.write(root) + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
