#!/bin/sh
# pgmux container entrypoint (POSIX sh). It execs java, so pgmux is this process and gets the SIGTERM of
# `docker stop` or the kubelet: it drains running transactions (up to shutdown-timeout) and exits 0.
#
#   PGMUX_JAR        the shaded jar                          (default /opt/pgmux/pgmux.jar)
#   PGMUX_CONFIG     config file, used only if it exists     (default /etc/pgmux/pgmux.conf)
#   PGMUX_JAVA_OPTS  more JVM options, after the container defaults (so -XX:MaxRAMPercentage=75 wins)
#   PGMUX_*          any setting, e.g. PGMUX_POOL_SIZE=50; the mapping is at the top of
#                    config/src/main/resources/reference.conf. Environment beats the config file.
#
# With arguments (`check --config F`, `--version`, `--help`), they are passed to pgmux as they are.
set -eu

jar="${PGMUX_JAR:-/opt/pgmux/pgmux.jar}"
config="${PGMUX_CONFIG:-/etc/pgmux/pgmux.conf}"
java_opts="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError ${PGMUX_JAVA_OPTS:-}"
# PGMUX_JAR belongs to this script, not to pgmux, which refuses PGMUX_ variables that name no setting.
unset PGMUX_JAR

if [ ! -f "$jar" ]; then
  echo "pgmux-entrypoint: no jar at $jar (set PGMUX_JAR)" >&2
  exit 2
fi

java_bin=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  java_bin="$JAVA_HOME/bin/java"
fi

if [ "$#" -gt 0 ]; then
  # shellcheck disable=SC2086 # java_opts is a list of options
  exec "$java_bin" $java_opts -jar "$jar" "$@"
fi
if [ -f "$config" ]; then
  echo "pgmux-entrypoint: config file $config, overridden by PGMUX_* variables" >&2
  # shellcheck disable=SC2086
  exec "$java_bin" $java_opts -jar "$jar" --config "$config"
fi
echo "pgmux-entrypoint: no $config; configured by defaults and PGMUX_* variables" >&2
# shellcheck disable=SC2086
exec "$java_bin" $java_opts -jar "$jar"
