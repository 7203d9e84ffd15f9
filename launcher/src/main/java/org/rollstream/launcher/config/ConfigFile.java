package org.rollstream.launcher.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A role's configuration file: YAML ({@code .yaml}, {@code .yml}) or Java properties (any other
 * name), whose keys are the long option names of the command without the dashes
 * ({@code group-size: 8}, {@code bootstrap-servers: kafka-1:9092}). The command's option
 * declarations stay the one place for keys, defaults and documentation; this class only reads
 * the file into {@code key -> values}.
 *
 * <p>Rules:
 * <ul>
 *   <li>A top-level key whose value is a map and whose name is a command ({@code actor:},
 *       {@code learner:}) is a section: its keys apply to that command only, after the top-level
 *       ones. Properties files spell a section as a prefix: {@code actor.group-size=4}.</li>
 *   <li>A list value repeats the option; a map value under an option of map type
 *       ({@code kafka-property:}) gives its {@code KEY=VALUE} entries.</li>
 *   <li>{@code ${NAME}} in a value is replaced by the environment variable NAME (secrets stay out
 *       of the file); an unset variable is an error naming the key.</li>
 * </ul>
 * Reading never validates keys against a command: {@link ConfigExpander} does that.
 */
public final class ConfigFile {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private final Path path;
    private final Map<String, List<String>> topLevel;
    private final Map<String, Map<String, List<String>>> sections;

    private ConfigFile(Path path, Map<String, List<String>> topLevel, Map<String, Map<String, List<String>>> sections) {
        this.path = path;
        this.topLevel = topLevel;
        this.sections = sections;
    }

    public Path path() {
        return path;
    }

    /** Keys for every command, in file order. */
    public Map<String, List<String>> topLevel() {
        return topLevel;
    }

    /** Sections by command name, each in file order. */
    public Map<String, Map<String, List<String>>> sections() {
        return sections;
    }

    /**
     * Reads {@code file}, replacing {@code ${NAME}} by environment variables from {@code env}.
     *
     * @param sectionNames names that make a top-level map a section (the commands)
     * @throws ConfigException naming the file, and the key where one is at fault
     */
    public static ConfigFile read(Path file, java.util.Set<String> sectionNames, Function<String, String> env) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException("config file " + file + " is not a readable file");
        }
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        Map<String, Object> raw = name.endsWith(".yaml") || name.endsWith(".yml") ? yaml(file) : properties(file, sectionNames);
        Map<String, List<String>> top = new LinkedHashMap<>();
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            String key = e.getKey();
            if (sectionNames.contains(key) && e.getValue() instanceof Map<?, ?> m) {
                Map<String, List<String>> section = new LinkedHashMap<>();
                for (Map.Entry<?, ?> s : m.entrySet()) {
                    String k = String.valueOf(s.getKey());
                    section.put(k, values(file, key + "." + k, s.getValue(), env));
                }
                sections.put(key, section);
            } else {
                top.put(key, values(file, key, e.getValue(), env));
            }
        }
        return new ConfigFile(file, top, sections);
    }

    private static Map<String, Object> yaml(Path file) {
        try (Reader r = Files.newBufferedReader(file)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (doc == null) {
                return Map.of();
            }
            if (!(doc instanceof Map<?, ?> m)) {
                throw new ConfigException("config file " + file + " must be a map of option names to values, not a "
                        + doc.getClass().getSimpleName());
            }
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), v));
            return out;
        } catch (IOException | YAMLException e) {
            throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage().replace('\n', ' '));
        }
    }

    private static Map<String, Object> properties(Path file, java.util.Set<String> sectionNames) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : new java.util.TreeSet<>(p.stringPropertyNames())) {
            int dot = k.indexOf('.');
            String head = dot < 0 ? k : k.substring(0, dot);
            if (dot > 0 && sectionNames.contains(head)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> section = (Map<String, Object>) out.computeIfAbsent(head, h -> new LinkedHashMap<String, Object>());
                section.put(k.substring(dot + 1), p.getProperty(k));
            } else {
                out.put(k, p.getProperty(k));
            }
        }
        return out;
    }

    private static List<String> values(Path file, String key, Object value, Function<String, String> env) {
        List<String> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            for (Object o : list) {
                out.add(scalar(file, key, o, env));
            }
        } else if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.add(e.getKey() + "=" + scalar(file, key + "." + e.getKey(), e.getValue(), env));
            }
        } else {
            out.add(scalar(file, key, value, env));
        }
        return out;
    }

    private static String scalar(Path file, String key, Object value, Function<String, String> env) {
        if (value == null) {
            throw new ConfigException("config file " + file + ": key '" + key + "' has no value");
        }
        if (value instanceof Map<?, ?> || value instanceof List<?>) {
            throw new ConfigException("config file " + file + ": key '" + key + "' must be a plain value, not a nested structure");
        }
        return substitute(String.valueOf(value), name -> {
            String v = env.apply(name);
            if (v == null) {
                throw new ConfigException("config file " + file + ": key '" + key + "' refers to the environment variable "
                        + name + ", which is not set");
            }
            return v;
        });
    }

    /** Replaces every {@code ${NAME}} in {@code text} by {@code lookup(NAME)}. */
    public static String substitute(String text, Function<String, String> lookup) {
        Matcher m = ENV.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(lookup.apply(m.group(1))));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
