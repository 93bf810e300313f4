package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.Severity;
import io.pgmux.protocol.SqlState;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error, as (field code → value) pairs in wire order; unknown fields are kept. See
 * https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
public record ErrorResponse(Map<Character, String> fields) implements BackendMessage {
    public static final char SEVERITY = 'S';
    public static final char SEVERITY_NONLOCALIZED = 'V';
    public static final char CODE = 'C';
    public static final char MESSAGE = 'M';
    public static final char DETAIL = 'D';
    public static final char HINT = 'H';

    public ErrorResponse {
        fields = Fields.copy(fields);
    }

    public static ErrorResponse decode(ByteBuf body) {
        return new ErrorResponse(Fields.decode(body));
    }

    /** An error made by pgmux itself. */
    public static ErrorResponse of(Severity severity, SqlState sqlState, String message) {
        return of(severity, sqlState.code(), message);
    }

    public static ErrorResponse of(Severity severity, String sqlState, String message) {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put(SEVERITY, severity.name());
        fields.put(SEVERITY_NONLOCALIZED, severity.name());
        fields.put(CODE, sqlState);
        fields.put(MESSAGE, message);
        return new ErrorResponse(fields);
    }

    public String severity() {
        return fields.getOrDefault(SEVERITY_NONLOCALIZED, fields.getOrDefault(SEVERITY, "ERROR"));
    }

    public String sqlState() {
        return fields.getOrDefault(CODE, "");
    }

    public String message() {
        return fields.getOrDefault(MESSAGE, "");
    }

    /** True when PostgreSQL ends the session after this error (FATAL or PANIC). */
    public boolean isFatal() {
        String severity = severity();
        return severity.equals("FATAL") || severity.equals("PANIC");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.ERROR_RESPONSE);
        Fields.encode(out, fields);
        Wire.end(out, lengthIndex);
    }
}
