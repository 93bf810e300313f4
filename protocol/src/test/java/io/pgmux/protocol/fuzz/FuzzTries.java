package io.pgmux.protocol.fuzz;

import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Sets the number of tries of every property of a fuzz class: {@value #DEFAULT} in a normal build, so that CI stays
 * fast, and whatever {@code -Dpgmux.fuzz.tries=N} says for a longer run ({@code mvn -pl protocol test
 * -Dpgmux.fuzz.tries=100000}). Register it with {@code @AddLifecycleHook(FuzzTries.class)}.
 */
public final class FuzzTries implements AroundPropertyHook {
    public static final String PROPERTY = "pgmux.fuzz.tries";
    public static final int DEFAULT = 1000;

    /** The tries asked for on the command line, else {@value #DEFAULT}. */
    public static int tries() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        try {
            int tries = Integer.parseInt(value.trim());
            if (tries < 1) {
                throw new IllegalArgumentException(PROPERTY + " must be at least 1, got " + value);
            }
            return tries;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PROPERTY + " must be a number, got " + value, e);
        }
    }

    /** Registered on a class, the hook reaches every property in it. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        // An @Example is one case, not a property to try many times.
        if (!context.targetMethod().isAnnotationPresent(Example.class)) {
            context.attributes().setTries(tries());
        }
        return property.execute();
    }
}
