package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import io.pgmux.config.InvalidSettingsException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the configuration: reference.conf, then the file, then {@code PGMUX_*} environment variables, then
 * {@code -Dpgmux.*} system properties, the later winning. It checks the result against reference.conf, binds it to
 * {@link PgmuxConfig} and reports every problem at once in a {@link ConfigException}.
 */
public final class ConfigLoader {
    static final String MASK = "******";
    private static final String ROOT = "pgmux";
    /** Only the pgmux block of every reference.conf on the class path: other libraries' settings are not ours. */
    private static final Config REFERENCE = ConfigFactory.parseResources(
                    ConfigLoader.class.getClassLoader(), "reference.conf")
            .resolve()
            .withOnlyPath(ROOT);

    /** A key of a database's or a user's pool overrides; group 1 is the key as in {@code pgmux.pool}. */
    private static final Pattern ENTRY_POOL_KEY = Pattern.compile("(?:databases|auth\\.users)\\..+\\.(pool\\..+)");

    private ConfigLoader() {}

    /** {@link #load(Optional, Map, Properties)} with this process's environment and system properties. */
    public static PgmuxConfig load(Optional<Path> file) throws ConfigException {
        return load(file, System.getenv(), System.getProperties());
    }

    /**
     * Loads {@code file} (if any) over reference.conf, with the {@code PGMUX_*} variables of {@code env} and the
     * {@code pgmux.*} properties of {@code systemProperties} on top. Substitutions such as {@code ${?VAR}} in the file
     * read {@code env}.
     */
    public static PgmuxConfig load(Optional<Path> file, Map<String, String> env, Properties systemProperties)
            throws ConfigException {
        List<String> problems = new ArrayList<>();
        Config fileLayer = ConfigFactory.empty();
        if (file.isPresent()) {
            Path path = file.get();
            if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                throw new ConfigException(List.of(path + ": cannot read the config file: no such readable file"));
            }
            fileLayer = parse(
                    () -> ConfigFactory.parseFile(
                            path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)),
                    problems);
        }
        return withOverrides(fileLayer, env, systemProperties, problems);
    }

    /** The HOCON text {@code hocon} over reference.conf, with no environment or system properties; for tests. */
    public static PgmuxConfig fromString(String hocon) throws ConfigException {
        List<String> problems = new ArrayList<>();
        return build(parseString(hocon, problems), ConfigFactory.empty(), problems);
    }

    /**
     * The HOCON text {@code hocon} in place of a config file, under the same {@code PGMUX_*} and {@code pgmux.*}
     * overrides as {@link #load(Optional, Map, Properties)}: what {@code pgmux demo} runs with.
     */
    public static PgmuxConfig fromString(String hocon, Map<String, String> env, Properties systemProperties)
            throws ConfigException {
        List<String> problems = new ArrayList<>();
        return withOverrides(parseString(hocon, problems), env, systemProperties, problems);
    }

    private static Config parseString(String hocon, List<String> problems) throws ConfigException {
        return parse(
                () -> ConfigFactory.parseString(
                        hocon, ConfigParseOptions.defaults().setOriginDescription("config")),
                problems);
    }

    /** {@code base} (a config file's layer) with the environment's and the system properties' layers on top. */
    private static PgmuxConfig withOverrides(
            Config base, Map<String, String> env, Properties systemProperties, List<String> problems)
            throws ConfigException {
        Overrides overrides = new Overrides(REFERENCE.getObject(ROOT));
        Config envLayer = overrides.fromEnvironment(env, base, problems);
        Config propertiesLayer = overrides.fromSystemProperties(systemProperties);
        Config layered = propertiesLayer.withFallback(envLayer).withFallback(base);
        return build(layered, ConfigValueFactory.fromMap(env, "environment").toConfig(), problems);
    }

    /** Checks and binds the {@code pgmux} block of {@code config}, with reference.conf under it. */
    public static PgmuxConfig fromConfig(Config config) throws ConfigException {
        return build(config, ConfigFactory.empty(), new ArrayList<>());
    }

    /** The effective settings as HOCON, for {@code pgmux check}; passwords are shown as {@value #MASK}. */
    public static String describe(PgmuxConfig config) {
        return ConfigRenderer.render(config);
    }

    /**
     * The scalar settings as {@code section.key} → value (the admin console's SHOW CONFIG), written as
     * {@link #describe} writes them but with strings unquoted and unset ones null; the {@code databases} and
     * {@code auth.users} maps are left out, passwords are shown as {@value #MASK}.
     */
    public static Map<String, String> settings(PgmuxConfig config) {
        return ConfigRenderer.settings(config);
    }

    private static Config parse(Supplier<Config> parser, List<String> problems) throws ConfigException {
        Config layer;
        try {
            layer = parser.get();
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(List.of(e.getMessage()));
        }
        layer.root().forEach((key, value) -> {
            if (!key.equals(ROOT)) {
                problems.add(where(value.origin()) + key + ": unknown setting (settings go inside pgmux { })");
            }
        });
        return layer;
    }

    private static PgmuxConfig build(Config layered, Config substitutions, List<String> problems)
            throws ConfigException {
        Config merged;
        try {
            Config all = layered.withFallback(REFERENCE);
            merged = all.resolveWith(
                    all.withFallback(substitutions),
                    ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(e.getMessage());
            throw new ConfigException(problems);
        }
        if (!(merged.root().get(ROOT) instanceof ConfigObject pgmux)) {
            ConfigValue root = merged.root().get(ROOT);
            problems.add(where(root.origin()) + ROOT + " must be an object { … }");
            throw new ConfigException(problems);
        }
        merged = AuthFile.mergeInto(merged, problems);
        pgmux = merged.getObject(ROOT);

        // Values that cannot be bound are reported here and replaced by their defaults, so that binding goes on
        // and reports the problems of everything else too.
        Set<String> reported = new HashSet<>();
        Config bindable = merged;
        for (SettingsCheck.Finding finding : SettingsCheck.check(REFERENCE.getObject(ROOT), pgmux)) {
            problems.add(where(finding.origin()) + finding.text());
            if (finding.badValue()) {
                reported.add(finding.key());
                bindable = bindable.withoutPath(ConfigUtil.joinPath(prepend(ROOT, finding.path())));
            }
        }
        try {
            PgmuxConfig config =
                    PgmuxConfig.from(bindable.withFallback(REFERENCE).getConfig(ROOT));
            if (problems.isEmpty()) {
                return config;
            }
        } catch (InvalidSettingsException e) {
            for (Problem p : e.details()) {
                if (!isReported(reported, p.key()) && !isInherited(p, e.details())) {
                    problems.add(where(origin(merged, p.key())) + p.text());
                }
            }
        }
        throw new ConfigException(problems);
    }

    /** A binding problem about a key whose value was already reported as unusable adds nothing. */
    private static boolean isReported(Set<String> reported, String key) {
        return reported.stream().anyMatch(r -> key.equals(r) || key.startsWith(r + "."));
    }

    /**
     * A database's or a user's pool inherits a bad value of {@code pgmux.pool}: reporting it once, for {@code pool}, is
     * enough.
     */
    private static boolean isInherited(Problem problem, List<Problem> all) {
        Matcher m = ENTRY_POOL_KEY.matcher(problem.key());
        return m.matches() && all.contains(new Problem(m.group(1), problem.message()));
    }

    private static ConfigOrigin origin(Config merged, String key) {
        String path = ConfigUtil.joinPath(prepend(ROOT, Arrays.asList(key.split("\\."))));
        return merged.hasPath(path) ? merged.getValue(path).origin() : null;
    }

    /**
     * {@code file.conf:12: }, {@code env PGMUX_POOL_SIZE: } or nothing: a default from reference.conf is not where
     * a user should look.
     */
    static String where(ConfigOrigin origin) {
        if (origin == null || origin.resource() != null) {
            return "";
        }
        String description = origin.description();
        String line = ": " + origin.lineNumber();
        if (origin.lineNumber() > 0 && description.endsWith(line)) {
            description = description.substring(0, description.length() - line.length()) + ":" + origin.lineNumber();
        }
        return description + ": ";
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> path = new ArrayList<>();
        path.add(first);
        path.addAll(rest);
        return path;
    }
}
