package io.pgmux.protocol.message;

/** Messages sent by a client (by pgmux itself when it talks to PostgreSQL). */
public sealed interface FrontendMessage extends Message
        permits StartupPacket,
                Query,
                Parse,
                Bind,
                Describe,
                Close,
                Execute,
                Sync,
                Flush,
                Terminate,
                CopyDone,
                CopyFail,
                PasswordMessage,
                SaslInitialResponse,
                SaslResponse {}
