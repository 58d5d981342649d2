package dev.flowblend.capacity;

import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Issues the run's requests. Open loop: Poisson arrivals, exponential gaps from a
 * {@link SplittableRandom} seeded with the run's seed (its algorithm is fixed by the JDK's
 * specification, so the same seed gives the same arrivals on every JVM). Closed loop: every
 * client issues at time 0 and again {@code thinkMs} after each of its requests ended. Stops at
 * {@code count} requests. Single-threaded, driven by the {@link EventQueue}.
 */
final class Arrivals {
    private final Load load;
    private final EventQueue clock;
    private final IntConsumer arrive;  // takes the client (closed loop) or -1 (open loop)
    private final BooleanSupplier more;
    private final SplittableRandom random;

    Arrivals(Load load, EventQueue clock, IntConsumer arrive, BooleanSupplier more) {
        this.load = load;
        this.clock = clock;
        this.arrive = arrive;
        this.more = more;
        this.random = new SplittableRandom(load.seed());
    }

    void start() {
        if (load.kind() == Load.Kind.OPEN) {
            clock.after(gapMs(), this::openArrival);
        } else {
            for (int c = 0; c < load.clients(); c++) {
                int client = c;
                clock.at(0, () -> arrive.accept(client));
            }
        }
    }

    /** A closed-loop client's request ended (completed or refused): it issues its next one. */
    void ended(int client) {
        if (client >= 0 && more.getAsBoolean()) {
            clock.after(load.thinkMs(), () -> {
                if (more.getAsBoolean()) {
                    arrive.accept(client);
                }
            });
        }
    }

    private void openArrival() {
        if (!more.getAsBoolean()) {
            return;
        }
        arrive.accept(-1);
        clock.after(gapMs(), this::openArrival);
    }

    /** An exponential gap with mean 1/rate, in ms; 1 - u keeps log away from 0; StrictMath: the same bits on every JVM. */
    private double gapMs() {
        return -StrictMath.log(1.0 - random.nextDouble()) / load.ratePerS() * 1000.0;
    }
}
