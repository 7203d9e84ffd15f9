package org.rollstream.launcher;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.rollstream.launcher.config.ConfigExpander;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The effective configuration of a parsed command as YAML that {@code --config} reads back: one
 * line per option with where its value came from (flag, file, default), then the Kafka client
 * properties the role will use (the {@code --kafka-config} file, {@code -X} and the
 * {@code ROLLSTREAM_SASL_*} environment variables merged). Secrets are masked.
 */
final class EffectiveConfig {
    /** Keys whose values are never printed. */
    static final Pattern SECRET = Pattern.compile("(?i).*(password|secret|jaas|credential|(^|[._-])token($|[._-])).*");
    static final String MASK = "******";

    private EffectiveConfig() {
    }

    static String render(CommandSpec spec, ConfigExpander.Expanded expanded) {
        StringBuilder sb = new StringBuilder();
        sb.append("# rollstream ").append(spec.qualifiedName(" ").replaceFirst("^rollstream ", ""))
                .append(": effective configuration");
        if (expanded.file() != null) {
            sb.append(" (file ").append(expanded.file()).append(')');
        }
        sb.append('\n');
        KafkaOptions kafka = null;
        for (OptionSpec o : spec.options()) {
            String key = o.longestName().replaceFirst("^-+", "");
            if (o.usageHelp() || o.versionHelp() || key.equals("config") || key.equals("print-config")) {
                continue;
            }
            String source = expanded.givenAsFlag(o) ? "flag" : expanded.fileKeys().contains(key) ? "file" : "default";
            Object value = o.getValue();
            if (value == null) {
                sb.append("# ").append(key).append(": (not set)\n");
                continue;
            }
            if (value instanceof Map<?, ?> map) {
                if (map.isEmpty()) {
                    continue;
                }
                sb.append(key).append(":  # ").append(source).append('\n');
                map.forEach((k, v) -> sb.append("  ").append(quote(String.valueOf(k))).append(": ")
                        .append(secret(String.valueOf(k)) ? MASK : quote(String.valueOf(v))).append('\n'));
            } else if (value instanceof Collection<?> list) {
                if (list.isEmpty()) {
                    continue;
                }
                sb.append(key).append(":  # ").append(source).append('\n');
                list.forEach(v -> sb.append("  - ").append(quote(String.valueOf(v))).append('\n'));
            } else {
                sb.append(key).append(": ").append(secret(key) ? MASK : quote(String.valueOf(value)))
                        .append("  # ").append(source).append('\n');
            }
        }
        for (var m : spec.mixins().values()) {
            if (m.userObject() instanceof KafkaOptions k) {
                kafka = k;
            }
        }
        if (kafka != null && kafka.hasBootstrap()) {
            List<String> lines = new ArrayList<>();
            kafka.settings(kafka.bootstrapServers).clientProperties().forEach((k, v) ->
                    lines.add("#   " + k + " = " + (secret(k) ? MASK : v)));
            if (!lines.isEmpty()) {
                sb.append("# Kafka client properties in effect (--kafka-config, -X, ROLLSTREAM_SASL_*):\n");
                lines.forEach(l -> sb.append(l).append('\n'));
            }
        }
        return sb.toString();
    }

    static boolean secret(String key) {
        return SECRET.matcher(key).matches();
    }

    private static String quote(String s) {
        if (s.matches("[A-Za-z0-9_./:,=+@-]+") && !s.equalsIgnoreCase("null") && !s.equals("~")) {
            return s;
        }
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
