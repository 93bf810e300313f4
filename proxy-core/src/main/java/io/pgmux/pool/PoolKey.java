package io.pgmux.pool;

/** A pool's identity: the database name clients ask for and the user they log in as. */
public record PoolKey(String database, String user) {
    @Override
    public String toString() {
        return database + "/" + user;
    }
}
