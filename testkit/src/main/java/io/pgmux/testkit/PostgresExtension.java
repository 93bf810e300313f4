package io.pgmux.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that passes the JVM-wide {@link TestPostgres#shared()} server to test constructors, test methods
 * and lifecycle methods that declare a {@link TestPostgres} parameter: {@code @ExtendWith(PostgresExtension.class)}.
 */
public final class PostgresExtension implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == TestPostgres.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return TestPostgres.shared();
    }
}
