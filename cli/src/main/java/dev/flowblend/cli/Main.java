package dev.flowblend.cli;

import dev.flowblend.telemetry.LogFormat;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The ./flowblend launcher: one entry point, one subcommand per job. */
@Command(name = "flowblend", mixinStandardHelpOptions = true, version = "flowblend 0.1.0",
        description = "Stage-aware multi-model serving for flow-matching video diffusion (FlowBlending).",
        subcommands = {DemoCommand.class, OrchestratorCommand.class, WorkerCommand.class, GenerateCommand.class,
                BenchCommand.class, CalibrateCommand.class, CapacityCommand.class, EvaluateCommand.class, LoadCommand.class, ProbeCommand.class, VerifyCommand.class, TokenCommand.class, CertsCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        LogFormat.useKeepOnShutdown();
        LogFormat.install();
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("flowblend " + cmd.getCommandName() + ": " + describe(ex));
            return 1;
        });
        return cl.execute(args);
    }

    static String describe(Throwable ex) {
        if (ex instanceof io.grpc.StatusRuntimeException s) {
            return s.getStatus().getCode() + ": " + s.getStatus().getDescription();
        }
        return ex.getMessage() == null ? ex.toString() : ex.getMessage();
    }

    /** No command given: the usage goes to stderr and the exit status says it was a mistake (2, as picocli's). */
    @Override
    public void run() {
        CommandLine cl = new CommandLine(this);
        cl.getErr().println("flowblend: no command given");
        cl.usage(cl.getErr());
        throw new CommandLine.ParameterException(cl, "no command given");
    }
}
