package org.rollstream.launcher.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Turns {@code --config FILE} into options: the file's keys become {@code --key=value} arguments
 * placed right after the command name, before the user's own flags, so a flag always overrides
 * the file (the command line must allow an option to be given more than once, last wins).
 *
 * <p>Checks, all before the command runs, each failing with a {@link ConfigException} that names
 * the file and the key: a key that no command knows; a key in a command's section that the command
 * does not know; a value the option's type rejects ({@code steps: many}); a key that may not be
 * set from a file ({@code config}, {@code print-config}, {@code help}, {@code version}). A top-level
 * key that another command knows but this one does not is skipped, so one file can serve every role.
 */
public final class ConfigExpander {
    /** The option that names the file. */
    public static final String OPTION = "--config";
    private static final Set<String> RESERVED = Set.of("config", "print-config", "help", "version");

    /** The arguments to parse, and where the settings came from (for {@code --print-config}). */
    public record Expanded(String[] args, Path file, Set<String> fileKeys, List<String> userArgs) {
        // fileKeys: the longest names, without dashes, of the options the file set
        /** Whether the user gave this option on the command line. */
        public boolean givenAsFlag(OptionSpec option) {
            for (String a : userArgs) {
                for (String n : option.names()) {
                    if (a.equals(n) || a.startsWith(n + "=")) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    private ConfigExpander() {
    }

    /**
     * @param root    the command line the arguments are for (its model only is read)
     * @param fresh   makes a new, unused command line of the same shape, to try the file's values on
     * @param env     environment lookup for {@code ${NAME}}
     * @throws ConfigException naming the file and the key at fault
     */
    public static Expanded expand(CommandLine root, Supplier<CommandLine> fresh, String[] args, Function<String, String> env) {
        List<String> path = new ArrayList<>();
        CommandLine leaf = root;
        int i = 0;
        while (i < args.length && leaf.getSubcommands().containsKey(args[i])) {
            leaf = leaf.getSubcommands().get(args[i]);
            path.add(args[i]);
            i++;
        }
        List<String> user = Arrays.asList(args).subList(i, args.length);
        Path file = configPath(user);
        if (file == null || leaf.getCommandSpec().findOption(OPTION) == null) {
            return new Expanded(args, null, Set.of(), user);
        }
        Map<String, CommandSpec> configurable = new LinkedHashMap<>();
        for (Map.Entry<String, CommandLine> e : root.getSubcommands().entrySet()) {
            if (e.getValue().getCommandSpec().findOption(OPTION) != null) {
                configurable.put(e.getKey(), e.getValue().getCommandSpec());
            }
        }
        ConfigFile cf = ConfigFile.read(file, root.getSubcommands().keySet(), env);
        String leafName = leaf.getCommandName();
        Map<String, List<String>> settings = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : cf.topLevel().entrySet()) {
            String key = e.getKey();
            checkNotReserved(file, key);
            if (option(leaf.getCommandSpec(), key) != null) {
                settings.put(key, e.getValue());
            } else if (configurable.values().stream().noneMatch(s -> option(s, key) != null)) {
                throw new ConfigException("config file " + file + ": unknown key '" + key + "' (no command has an option --"
                        + key + "; see rollstream " + leafName + " --help)");
            }
        }
        for (Map.Entry<String, Map<String, List<String>>> section : cf.sections().entrySet()) {
            CommandSpec spec = configurable.get(section.getKey());
            if (spec == null) {
                throw new ConfigException("config file " + file + ": section '" + section.getKey() + "' names a command without --config");
            }
            for (Map.Entry<String, List<String>> e : section.getValue().entrySet()) {
                checkNotReserved(file, section.getKey() + "." + e.getKey());
                if (option(spec, e.getKey()) == null) {
                    throw new ConfigException("config file " + file + ": unknown key '" + section.getKey() + "." + e.getKey()
                            + "' (rollstream " + section.getKey() + " has no option --" + e.getKey() + ")");
                }
                if (section.getKey().equals(leafName)) {
                    settings.put(e.getKey(), e.getValue());
                }
            }
        }
        List<String> fileArgs = new ArrayList<>();
        Map<String, String> keyOfOption = new HashMap<>();
        for (Map.Entry<String, List<String>> e : settings.entrySet()) {
            OptionSpec o = option(leaf.getCommandSpec(), e.getKey());
            keyOfOption.put(o.longestName(), e.getKey());
            boolean flag = o.arity().max() == 0;
            for (String v : e.getValue()) {
                if (flag) {
                    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                        throw new ConfigException("config file " + file + ": key '" + e.getKey() + "' is a switch: true or false, got '"
                                + v + "'");
                    }
                    if (v.equalsIgnoreCase("true")) {
                        fileArgs.add(o.longestName());
                    }
                } else {
                    fileArgs.add(o.longestName() + "=" + v);
                }
            }
        }
        tryValues(fresh, file, path, fileArgs, keyOfOption);
        List<String> expanded = new ArrayList<>(path);
        expanded.addAll(fileArgs);
        expanded.addAll(user);
        Set<String> fileKeys = new LinkedHashSet<>();
        keyOfOption.keySet().forEach(name -> fileKeys.add(name.replaceFirst("^-+", "")));
        return new Expanded(expanded.toArray(String[]::new), file, fileKeys, user);
    }

    /** Parses the file's values alone, so a bad one is reported with its key rather than as a flag. */
    private static void tryValues(Supplier<CommandLine> fresh, Path file, List<String> path, List<String> fileArgs,
                                  Map<String, String> keyOfOption) {
        CommandLine cli = fresh.get();
        cli.setOverwrittenOptionsAllowed(true);
        List<String> probe = new ArrayList<>(path);
        probe.addAll(fileArgs);
        try {
            cli.parseArgs(probe.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            String key = e.getArgSpec() instanceof OptionSpec o ? keyOfOption.get(o.longestName()) : null;
            throw new ConfigException("config file " + file + (key == null ? "" : ": key '" + key + "'") + ": " + e.getMessage());
        }
    }

    private static void checkNotReserved(Path file, String key) {
        String last = key.substring(key.lastIndexOf('.') + 1);
        if (RESERVED.contains(last)) {
            throw new ConfigException("config file " + file + ": key '" + key + "' can only be given on the command line");
        }
    }

    private static OptionSpec option(CommandSpec spec, String key) {
        if (key.isEmpty() || key.startsWith("-")) {
            return null;
        }
        OptionSpec o = spec.findOption("--" + key);
        return o != null ? o : key.length() == 1 ? spec.findOption("-" + key) : null;
    }

    /** The value of {@code --config FILE} or {@code --config=FILE} among the command's own arguments, else null. */
    static Path configPath(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals(OPTION) && i + 1 < args.size()) {
                return Path.of(args.get(i + 1));
            }
            if (a.startsWith(OPTION + "=")) {
                return Path.of(a.substring(OPTION.length() + 1));
            }
            if (a.equals("--")) {
                break;
            }
        }
        return null;
    }
}
