package io.pgmux;

import io.pgmux.config.ConfigException;
import io.pgmux.config.PgmuxConfig;

/** Where pgmux reads its configuration from, at start and again on every reload (SIGHUP, console RELOAD). */
@FunctionalInterface
public interface ConfigSource {
    /** Reads and checks the configuration; may do file I/O, so never call it on an event loop. */
    PgmuxConfig load() throws ConfigException;
}
