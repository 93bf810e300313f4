package io.pgmux.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/** Operating-system details: who we run as, and how to run PostgreSQL as an unprivileged user when we are root. */
final class Os {
    /** The unprivileged user that runs PostgreSQL when the JVM runs as root. */
    static final String UNPRIVILEGED_USER = "nobody";

    private static volatile Boolean root;
    private static volatile String unprivilegedGroup;

    private Os() {}

    /** Whether this JVM runs with user id 0, which PostgreSQL refuses. */
    static boolean isRoot() {
        Boolean r = root;
        if (r == null) {
            try {
                // /proc/self belongs to the effective user of the process that looks at it
                r = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                r = "root".equals(System.getProperty("user.name"));
            }
            root = r;
        }
        return r;
    }

    /** The command line that runs {@code command} as the user PostgreSQL should run as. */
    static List<String> asPostgresUser(List<String> command) {
        if (!isRoot()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of(
                "setpriv", "--reuid=" + UNPRIVILEGED_USER, "--regid=" + unprivilegedGroup(), "--clear-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** When running as root, hands {@code path} to the unprivileged user; otherwise does nothing. */
    static void giveToPostgresUser(Path path) throws IOException {
        if (!isRoot()) {
            return;
        }
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal user = lookup.lookupPrincipalByName(UNPRIVILEGED_USER);
        GroupPrincipal group = lookup.lookupPrincipalByGroupName(unprivilegedGroup());
        PosixFileAttributeView view =
                Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setOwner(user);
        view.setGroup(group);
    }

    /**
     * Whether every existing directory from {@code path} up to the root lets other users through, so
     * that the unprivileged user can reach what lies below.
     */
    static boolean traversableByOthers(Path path) {
        for (Path p = path.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (!Files.exists(p)) {
                continue;
            }
            try {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return true;
    }

    /** The primary group of the unprivileged user: "nogroup" on Debian, "nobody" elsewhere. */
    private static String unprivilegedGroup() {
        String g = unprivilegedGroup;
        if (g == null) {
            g = "nobody";
            try {
                Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("nogroup");
                g = "nogroup";
            } catch (IOException e) {
                // no "nogroup": keep "nobody"
            }
            unprivilegedGroup = g;
        }
        return g;
    }
}
