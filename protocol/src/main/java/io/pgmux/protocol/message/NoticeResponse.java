package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.Severity;
import java.util.LinkedHashMap;
import java.util.Map;

/** A notice (warning, info), with the same fields as an {@link ErrorResponse}. */
public record NoticeResponse(Map<Character, String> fields) implements BackendMessage {
    public NoticeResponse {
        fields = Fields.copy(fields);
    }

    public static NoticeResponse decode(ByteBuf body) {
        return new NoticeResponse(Fields.decode(body));
    }

    public static NoticeResponse of(Severity severity, String sqlState, String message) {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put(ErrorResponse.SEVERITY, severity.name());
        fields.put(ErrorResponse.SEVERITY_NONLOCALIZED, severity.name());
        fields.put(ErrorResponse.CODE, sqlState);
        fields.put(ErrorResponse.MESSAGE, message);
        return new NoticeResponse(fields);
    }

    public String message() {
        return fields.getOrDefault(ErrorResponse.MESSAGE, "");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.NOTICE_RESPONSE);
        Fields.encode(out, fields);
        Wire.end(out, lengthIndex);
    }
}
