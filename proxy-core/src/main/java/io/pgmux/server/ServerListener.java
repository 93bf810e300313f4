package io.pgmux.server;

import io.netty.channel.EventLoop;
import io.pgmux.protocol.Frame;
import java.util.List;

/**
 * The client a server connection is attached to. The server calls these on the listener's own
 * event loop, in the order the frames arrived.
 */
public interface ServerListener {
    EventLoop eventLoop();

    /** The client's name, as the console's {@code link} column shows it. */
    default String name() {
        return toString();
    }

    /** Frames from one read burst; the listener owns the frames from here, but not the list, which it must not keep. */
    void onServerFrames(ServerConnection server, List<Frame> frames);

    /** The server connection died while attached. */
    void onServerLost(ServerConnection server, String cause);

    /** The server's socket became writable again after this client paused its reads. */
    default void onServerWritable(ServerConnection server) {}
}
