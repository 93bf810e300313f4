package io.pgmux.config;

/** How a configured password is stored: in plain text, as PostgreSQL's MD5 hash, or as a SCRAM-SHA-256 verifier. */
public enum PasswordKind {
    PLAIN,
    MD5,
    SCRAM_SHA_256
}
