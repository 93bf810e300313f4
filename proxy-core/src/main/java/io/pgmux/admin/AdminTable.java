package io.pgmux.admin;

import io.pgmux.protocol.message.RowDescription.Column;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The answer to one console command: columns, rows of values ({@link String}, {@link Long} for int8 columns, or
 * {@code null}) and the CommandComplete tag. A command without a result set has no columns.
 */
record AdminTable(List<Column> columns, List<List<Object>> rows, String tag) {
    AdminTable {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /** A command that returns no rows, answered with CommandComplete {@code tag} alone. */
    static AdminTable command(String tag) {
        return new AdminTable(List.of(), List.of(), tag);
    }

    boolean hasResult() {
        return !columns.isEmpty();
    }

    /** Builds a SHOW result row by row; each value's column type is given once, in order, by the column list. */
    static final class Builder {
        private final List<Column> columns;
        private final List<List<Object>> rows = new ArrayList<>();

        Builder(Column... columns) {
            this.columns = List.of(columns);
        }

        Builder row(Object... values) {
            if (values.length != columns.size()) {
                throw new IllegalArgumentException(values.length + " values for " + columns.size() + " columns");
            }
            List<Object> row = new ArrayList<>(values.length);
            for (Object v : values) {
                row.add(v instanceof Integer i ? Long.valueOf(i) : v instanceof Boolean b ? (b ? 1L : 0L) : v);
            }
            rows.add(row);
            return this;
        }

        AdminTable build() {
            return new AdminTable(columns, rows, "SHOW");
        }
    }

    /** Column helpers: {@code t("name")} is text, {@code n("name")} int8. */
    static Column t(String name) {
        return Column.text(name);
    }

    static Column n(String name) {
        return Column.int8(name);
    }

    static Column[] text(String... names) {
        return Arrays.stream(names).map(Column::text).toArray(Column[]::new);
    }
}
