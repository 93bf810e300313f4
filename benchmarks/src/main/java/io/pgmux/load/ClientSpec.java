package io.pgmux.load;

/** Where the clients connect, as whom, and what they run. */
record ClientSpec(
        String host,
        int port,
        String user,
        String password,
        String database,
        Workload workload,
        QueryProtocol protocol,
        int scale,
        long thinkTimeMicros) {}
