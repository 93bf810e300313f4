package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** How values are written in HOCON: durations and sizes with units, quoted strings, kebab-case enum names. */
final class Hocon {
    private static final long[] DURATION_UNITS = {
        3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L
    };
    private static final String[] DURATION_SUFFIXES = {"h", "m", "s", "ms", "us"};
    private static final long[] SIZE_UNITS = {1L << 30, 1_000_000_000L, 1L << 20, 1_000_000L, 1L << 10, 1_000L};
    private static final String[] SIZE_SUFFIXES = {"GiB", "GB", "MiB", "MB", "KiB", "kB"};

    private Hocon() {}

    /** {@code 30s}, {@code 10m}, {@code 500ms}: the largest unit that states the duration exactly. */
    static String duration(Duration d) {
        long nanos = d.toNanos();
        return withUnit(nanos, DURATION_UNITS, DURATION_SUFFIXES, "ns");
    }

    /** {@code 256MB}, {@code 1MiB}: the largest unit that states the size exactly. */
    static String size(long bytes) {
        return withUnit(bytes, SIZE_UNITS, SIZE_SUFFIXES, "");
    }

    private static String withUnit(long amount, long[] units, String[] suffixes, String baseSuffix) {
        if (amount == 0) {
            return "0";
        }
        for (int i = 0; i < units.length; i++) {
            if (amount % units[i] == 0) {
                return amount / units[i] + suffixes[i];
            }
        }
        return amount + baseSuffix;
    }

    /** A setting whose default is {@code null}: empty while it is null. */
    static Optional<String> optional(Config c, String key) {
        return c.hasPath(key) ? Optional.of(c.getString(key)) : Optional.empty();
    }

    static String quote(String s) {
        return ConfigUtil.quoteString(s);
    }

    /** The name an enum constant has in HOCON: {@code SCRAM_SHA_256} is {@code scram-sha-256}. */
    static String name(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The HOCON key of a record component: {@code maxClientConnections} is {@code max-client-connections}. */
    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Reads an enum constant by its HOCON name; the exception message lists the choices. */
    static <E extends Enum<E>> E parse(Class<E> type, String value) {
        for (E constant : type.getEnumConstants()) {
            if (name(constant).equalsIgnoreCase(value)) {
                return constant;
            }
        }
        throw new IllegalArgumentException("must be one of " + choices(type) + ", got " + quote(value));
    }

    static String choices(Class<? extends Enum<?>> type) {
        return Arrays.stream(type.getEnumConstants()).map(Hocon::name).collect(Collectors.joining(", "));
    }
}
