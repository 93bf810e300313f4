package io.pgmux.protocol.message;

/** Messages sent by a server (by pgmux itself when it answers a client). */
public sealed interface BackendMessage extends Message
        permits Authentication,
                ParameterStatus,
                BackendKeyData,
                ReadyForQuery,
                ErrorResponse,
                NoticeResponse,
                RowDescription,
                DataRow,
                CommandComplete,
                NegotiateProtocolVersion,
                ParseComplete,
                BindComplete,
                CloseComplete,
                NoData,
                PortalSuspended {}
