package io.pgmux.server;

import java.util.List;

/** What makes two prepared statements the same: their SQL text and declared parameter types. */
public record StatementKey(String sql, List<Integer> parameterTypes) {
    public StatementKey {
        parameterTypes = List.copyOf(parameterTypes);
    }
}
