package dev.flowblend.cli;

import dev.flowblend.security.DevCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A development CA and one certificate per process, in cert-manager's Secret layout, for running
 * with TLS and mutual TLS without a cluster (docs/security.md). Production certificates come from
 * cert-manager or your own issuer.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Write a development CA and TLS certificates for an orchestrator and its workers "
                + "(DIR/<name>/tls.crt, tls.key, ca.crt; DIR/ca.crt for clients).")
final class CertsCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Directory to write into (created; existing files replaced).")
    Path out;

    @Option(names = "--orchestrator-names", split = ",", description = "Names the orchestrator is reached by, first "
            + "one its identity; its certificate serves clients and is its client certificate to workers "
            + "(default: ${DEFAULT-VALUE}).")
    List<String> orchestratorNames = List.of("localhost", "127.0.0.1");

    @Option(names = "--worker", description = "A worker certificate: NAME=HOST[,HOST...] where the hosts are the names "
            + "its pool is dialed by (the pool's dns host, or its endpoints' hosts). Repeatable "
            + "(default: large=localhost,127.0.0.1 and small=localhost,127.0.0.1).")
    List<String> workers = List.of("large=localhost,127.0.0.1", "small=localhost,127.0.0.1");

    @Option(names = "--days", description = "Validity of the leaf certificates in days, 1..825 (default: ${DEFAULT-VALUE}).")
    int days = 90;

    @Override
    public Integer call() throws Exception {
        if (days < 1 || days > 825) {
            throw new IllegalArgumentException("--days is " + days + "; must be 1 to 825");
        }
        List<String[]> parsed = new ArrayList<>();
        for (String w : workers) {
            int eq = w.indexOf('=');
            String name = eq < 0 ? "" : w.substring(0, eq);
            if (!name.matches("[a-z0-9][a-z0-9-]{0,62}") || eq == w.length() - 1) {
                throw new IllegalArgumentException("--worker '" + w + "' must be NAME=HOST[,HOST...] with NAME of "
                        + "[a-z0-9-], e.g. small=flowblend-small-workers");
            }
            parsed.add(new String[] {name, w.substring(eq + 1)});
        }
        if (orchestratorNames.isEmpty() || orchestratorNames.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("--orchestrator-names must name at least one host");
        }
        Duration validity = Duration.ofDays(days);
        DevCertificates ca = DevCertificates.newCa("flowblend development CA", Duration.ofDays(days + 1));
        Files.createDirectories(out);
        ca.writeCa(out.resolve("ca.crt"));
        ca.issue(out.resolve("orchestrator"), orchestratorNames.get(0), orchestratorNames, true, true, validity);
        System.out.println("wrote " + out.resolve("orchestrator") + " (server and client certificate for "
                + orchestratorNames + ")");
        for (String[] w : parsed) {
            List<String> hosts = List.of(w[1].split(","));
            ca.issue(out.resolve(w[0]), hosts.get(0), hosts, true, false, validity);
            System.out.println("wrote " + out.resolve(w[0]) + " (worker server certificate for " + hosts + ")");
        }
        System.out.println("wrote " + out.resolve("ca.crt") + " (the CA: clients give it as --tls-ca)");
        return 0;
    }
}
