package io.pgmux.testkit;

/** One way of providing a running PostgreSQL server: external, container or embedded. */
interface PostgresServer extends AutoCloseable {
    TestPostgres.Source source();

    String host();

    int port();

    String superUser();

    String superPassword();

    /** The database that administrative connections use. */
    String adminDatabase();

    /** The directory with PostgreSQL's programs, or null when they are not on this machine. */
    String binDir();

    /** The data directory on this machine, or null when the server's files are elsewhere. */
    String dataDir();

    /** The content of a server-side file such as pg_hba.conf. */
    String readServerFile(String path);

    /** Replaces the content of a server-side file such as pg_hba.conf, keeping its owner. */
    void writeServerFile(String path, String content);

    /**
     * Creates (or replaces) a server-side file that only the server's OS user may read (mode 0600), as PostgreSQL
     * wants for a TLS key.
     */
    void writePrivateServerFile(String path, String content);

    /** Stops the server if this object started it; never throws. */
    @Override
    void close();
}
