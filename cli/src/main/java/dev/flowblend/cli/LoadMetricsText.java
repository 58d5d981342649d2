package dev.flowblend.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A small parser of the Prometheus text exposition format (0.0.4) as the processes' metrics
 * endpoints write it: one sample per line, {@code name{label="value",...} value [timestamp]};
 * lines starting with {@code #} (HELP, TYPE, comments) and blank lines are skipped. Label values
 * may hold the format's escapes ({@code \\}, {@code \"}, {@code \n}). Not a general
 * OpenMetrics parser: no exemplars, no UNIT lines.
 */
final class LoadMetricsText {
    private LoadMetricsText() {
    }

    /** One series: its name and its labels (sorted, so two spellings of the same set are equal). */
    record Series(String name, SortedMap<String, String> labels) {
        Series {
            labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels));
        }

        static Series of(String name, String... keyValues) {
            SortedMap<String, String> m = new TreeMap<>();
            for (int i = 0; i + 1 < keyValues.length; i += 2) {
                m.put(keyValues[i], keyValues[i + 1]);
            }
            return new Series(name, m);
        }

        /** Whether every given label has the given value here. */
        boolean has(Map<String, String> want) {
            for (Map.Entry<String, String> e : want.entrySet()) {
                if (!e.getValue().equals(labels.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
    }

    record Sample(Series series, double value) {
    }

    /** Every sample of {@code text}, in order; a malformed line throws naming its number and text. */
    static List<Sample> parse(String text) {
        List<Sample> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                out.add(line(line));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("metrics line " + (n + 1) + " '" + abbreviate(line) + "': "
                        + e.getMessage());
            }
        }
        return out;
    }

    private static Sample line(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) != '{' && s.charAt(i) != ' ' && s.charAt(i) != '\t') {
            i++;
        }
        String name = s.substring(0, i);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("no metric name");
        }
        SortedMap<String, String> labels = new TreeMap<>();
        if (i < s.length() && s.charAt(i) == '{') {
            i = labels(s, i + 1, labels);
        }
        String[] rest = s.substring(i).strip().split("[ \t]+");
        if (rest.length < 1 || rest[0].isEmpty() || rest.length > 2) {
            throw new IllegalArgumentException("expected a value (and an optional timestamp) after the series");
        }
        return new Sample(new Series(name, labels), value(rest[0]));
    }

    /** Reads {@code key="value",...}} from {@code i} (just after the brace); returns the index after the '}'. */
    private static int labels(String s, int i, SortedMap<String, String> into) {
        while (true) {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == ',')) {
                i++;
            }
            if (i >= s.length()) {
                throw new IllegalArgumentException("unterminated label set");
            }
            if (s.charAt(i) == '}') {
                return i + 1;
            }
            int eq = s.indexOf('=', i);
            if (eq < 0 || eq + 1 >= s.length() || s.charAt(eq + 1) != '"') {
                throw new IllegalArgumentException("expected key=\"value\" at column " + (i + 1));
            }
            String key = s.substring(i, eq).strip();
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            for (; j < s.length() && s.charAt(j) != '"'; j++) {
                char c = s.charAt(j);
                if (c == '\\' && j + 1 < s.length()) {
                    char e = s.charAt(++j);
                    v.append(e == 'n' ? '\n' : e);  // \\ and \" stand for themselves
                } else {
                    v.append(c);
                }
            }
            if (j >= s.length()) {
                throw new IllegalArgumentException("unterminated value of label " + key);
            }
            into.put(key, v.toString());
            i = j + 1;
        }
    }

    private static double value(String v) {
        return switch (v) {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("value '" + v + "' is not a number");
                }
            }
        };
    }

    private static String abbreviate(String line) {
        return line.length() <= 120 ? line : line.substring(0, 117) + "...";
    }
}
