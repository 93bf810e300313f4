package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

/**
 * The kind of value a setting takes, read off its default in reference.conf: a value must convert the way its default
 * does. A string default that reads as a duration ({@code 30s}) or a size ({@code 256MB}) makes the setting one.
 */
enum Kind {
    WHOLE_NUMBER("a whole number"),
    BOOLEAN("true or false"),
    DURATION("a duration such as 30s"),
    SIZE("a size such as 256MB"),
    STRING("a string"),
    STRING_OR_NULL("a string or null"),
    STRING_LIST("a list of strings"),
    OBJECT("an object { … }");

    private final String description;

    Kind(String description) {
        this.description = description;
    }

    String description() {
        return description;
    }

    static Kind of(ConfigValue reference) {
        return switch (reference.valueType()) {
            case OBJECT -> OBJECT;
            case LIST -> STRING_LIST;
            case NUMBER -> WHOLE_NUMBER;
            case BOOLEAN -> BOOLEAN;
            case NULL -> STRING_OR_NULL;
            case STRING -> DURATION.accepts(reference) ? DURATION : SIZE.accepts(reference) ? SIZE : STRING;
        };
    }

    boolean accepts(ConfigValue value) {
        Config c = value.atKey("v");
        return switch (this) {
            case WHOLE_NUMBER ->
                converts(() -> {
                    Number n = c.getNumber("v");
                    if (n.doubleValue() != n.longValue() || n.longValue() != n.intValue()) {
                        throw new NumberFormatException();
                    }
                });
            case BOOLEAN -> converts(() -> c.getBoolean("v"));
            case DURATION -> converts(() -> c.getDuration("v"));
            case SIZE -> converts(() -> c.getBytes("v"));
            case STRING -> isScalar(value);
            case STRING_OR_NULL -> value.valueType() == ConfigValueType.NULL || isScalar(value);
            case STRING_LIST -> converts(() -> c.getStringList("v"));
            case OBJECT -> value instanceof ConfigObject;
        };
    }

    private static boolean isScalar(ConfigValue value) {
        return switch (value.valueType()) {
            case STRING, NUMBER, BOOLEAN -> true;
            default -> false;
        };
    }

    private static boolean converts(Runnable read) {
        try {
            read.run();
            return true;
        } catch (com.typesafe.config.ConfigException | NumberFormatException e) {
            return false;
        }
    }
}
