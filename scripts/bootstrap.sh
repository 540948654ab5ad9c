#!/usr/bin/env bash
# Installs what dr-runbooks needs, by package name, and nothing twice.
# Run by `npm run demo` and `npm test` before anything else; safe to run again at any time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

TEMPORAL_CLI_VERSION="1.5.1"   # newest tag without a go.mod `replace`, which `go install pkg@version` refuses
MOTO_VERSION="5.2.1"           # what KUBERNETES-AND-AWS measured; moto's behaviour changes between releases
PG_MAJOR="15"
PG_USER="${DR_PG_OS_USER:-drpostgres}"
cache_bin="${DR_CACHE_DIR:-$root/.cache}/bin"

say()  { printf 'bootstrap: %s\n' "$*"; }
fail() { printf 'bootstrap: error: %s. Fix: %s\n' "$1" "$2" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else return 1; fi
}

apt_updated=""
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    fail "missing $* and no apt-get on this machine" "install $* with your package manager, then run this again"
  fi
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      || fail "apt-get update failed (need root or sudo)" "run as root, or: sudo apt-get update && sudo apt-get install -y $*"
    apt_updated=1
  fi
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || fail "apt-get install $* failed" "run: sudo apt-get install -y $*"
}

# Stops and disables the system service a Debian package's postinst started, through the service
# manager that is actually running (containers have no systemd): the project starts its own servers.
disable_system_service() {
  local service="$1"
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now "$service.service" >/dev/null 2>&1 || true
  else
    if [ -x "/etc/init.d/$service" ] && as_root "/etc/init.d/$service" status >/dev/null 2>&1; then
      as_root "/etc/init.d/$service" stop >/dev/null 2>&1 || fail "could not stop the $service system service the package started" "run: sudo /etc/init.d/$service stop"
    fi
    as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
    # The unit symlink the postinst made, so a later boot under systemd does not start it either.
    command -v deb-systemd-helper >/dev/null 2>&1 && as_root deb-systemd-helper disable "$service.service" >/dev/null 2>&1 || true
  fi
  say "$service: system service stopped and disabled (our tests run their own on free ports)"
}

# 1. Node dependencies, exactly as locked.
command -v node >/dev/null 2>&1 || fail "node is not installed" "install Node.js 20 (Debian: apt-get install nodejs npm)"
if [ -n "${DR_BOOTSTRAP_SKIP_NPM:-}" ]; then
  say "node_modules left as it is (DR_BOOTSTRAP_SKIP_NPM)"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f node_modules/.package-lock.json ]; then
  say "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "node_modules up to date"
fi

# 2. PostgreSQL 15 and pgBackRest from Debian.
pg_bin="/usr/lib/postgresql/$PG_MAJOR/bin"
if [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
  apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
else
  say "PostgreSQL $PG_MAJOR present ($pg_bin)"
fi
if ! command -v pgbackrest >/dev/null 2>&1; then
  apt_install pgbackrest
else
  say "pgBackRest present ($(pgbackrest version))"
fi

# Redis 7 from Debian: the cache platform's embedded instances (redis-server, redis-cli, redis-benchmark).
redis_bin="${DR_REDIS_SERVER:-redis-server}"
if ! command -v "$redis_bin" >/dev/null 2>&1; then
  apt_install redis-server
  # Its postinst starts a system redis on 6379; our instances run on free loopback ports of their own.
  disable_system_service redis-server
fi
redis_version="$("$redis_bin" --version 2>/dev/null | sed -n 's/.* v=\([0-9.]*\).*/\1/p')" || true
[ "${redis_version%%.*}" = "7" ] \
  || fail "redis-server is version ${redis_version:-unknown}, the cache platform needs Redis 7 (its AOF is a directory with a manifest)" \
    "install Redis 7 (Debian 12: apt-get install redis-server), or set DR_REDIS_SERVER to a Redis 7 redis-server"
say "Redis $redis_version present ($(command -v "$redis_bin"))"
# The recoveries' short performance checks: redis-benchmark (Debian's redis-tools, which redis-server
# depends on) and pgbench (in Debian's postgresql-15 itself).
command -v "${DR_REDIS_BENCHMARK:-redis-benchmark}" >/dev/null 2>&1 || apt_install redis-tools
[ -x "${DR_PGBENCH:-$pg_bin/pgbench}" ] || fail "pgbench is not in $pg_bin" "reinstall PostgreSQL $PG_MAJOR (apt-get install --reinstall postgresql-$PG_MAJOR), or set DR_PGBENCH"
say "redis-benchmark and pgbench present"

# postgres refuses to run as root: clusters run as an unprivileged user of our own.
if [ "$(id -u)" -eq 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
  say "creating unprivileged user $PG_USER to run PostgreSQL clusters"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" \
    || fail "could not create user $PG_USER" "create an unprivileged user and set DR_PG_OS_USER to its name"
fi

# 3. The Temporal CLI (dev server + Web UI), built from its Go module into our own cache.
temporal_bin="$cache_bin/temporal"
go_bin="${DR_GO_BIN:-go}"
if [ -x "$temporal_bin" ] && [ "$(cat "$temporal_bin.version" 2>/dev/null)" = "$TEMPORAL_CLI_VERSION" ]; then
  say "Temporal CLI $TEMPORAL_CLI_VERSION present ($temporal_bin)"
else
  command -v "$go_bin" >/dev/null 2>&1 || fail "go is not installed; it is needed once to build the Temporal CLI" \
    "install Go >= 1.25 (https://go.dev/doc/install or your package manager), then run this again"
  say "building Temporal CLI v$TEMPORAL_CLI_VERSION with go install (a cold build takes a few minutes)"
  mkdir -p "$cache_bin"
  GOBIN="$cache_bin" "$go_bin" install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" \
    || fail "go install of the Temporal CLI failed" "check that Go >= 1.25 is installed and the Go module proxy is reachable, then run this again"
  echo "$TEMPORAL_CLI_VERSION" > "$temporal_bin.version"   # the binary itself reports 0.0.0-DEV
  say "built $("$temporal_bin" --version)"
fi

# 4. moto's server: the AWS adapters are tested against it, at the version whose behaviour the tests know.
moto_installed="$(python3 -c 'import importlib.metadata as m, moto.server; print(m.version("moto"))' 2>/dev/null || true)"
if [ "$moto_installed" = "$MOTO_VERSION" ]; then
  say "moto server $MOTO_VERSION present"
else
  command -v python3 >/dev/null 2>&1 || fail "python3 is not installed; moto (AWS API on loopback) needs it" "apt-get install python3 python3-pip"
  say "pip install moto[server]==$MOTO_VERSION${moto_installed:+ (found $moto_installed)}"
  # Debian's own python refuses system-wide pip installs (PEP 668); a user install is allowed.
  python3 -m pip install --quiet "moto[server]==$MOTO_VERSION" 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages "moto[server]==$MOTO_VERSION" \
    || fail "pip install 'moto[server]==$MOTO_VERSION' failed" "run: python3 -m pip install 'moto[server]==$MOTO_VERSION'"
fi

# 5. Chromium from Debian: the Web UI end-to-end test drives the real Temporal UI with playwright-core.
if [ -x "${DR_CHROMIUM:-/usr/bin/chromium}" ]; then
  say "Chromium present"
else
  apt_install chromium
fi

# 6. Prometheus (ships promtool) and Alertmanager (ships amtool) from Debian: the alert rules are checked
# by the real promtool, and the alert path is tested through a real Prometheus and Alertmanager.
prometheus_bin="${DR_PROMETHEUS_BIN:-/usr/bin/prometheus}"
alertmanager_bin="${DR_ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}"
missing_monitoring=()
{ [ -x "$prometheus_bin" ] && [ -x "$(dirname "$prometheus_bin")/promtool" ]; } || missing_monitoring+=(prometheus)
{ [ -x "$alertmanager_bin" ] && [ -x "$(dirname "$alertmanager_bin")/amtool" ]; } || missing_monitoring+=(prometheus-alertmanager)
if [ "${#missing_monitoring[@]}" -gt 0 ]; then
  apt_install "${missing_monitoring[@]}"
  # Debian's postinst enables each package's system service and starts it on 9090 / 9093 (+9094 for the
  # Alertmanager cluster) with /etc/prometheus. Our tests start their own servers with their own config
  # on free loopback ports, so a system copy would only squat ports and scrape nothing of ours: stop it
  # and disable it, through the service manager that is actually running (containers have no systemd).
  for service in "${missing_monitoring[@]}"; do disable_system_service "$service"; done
fi
say "Prometheus present ($("$prometheus_bin" --version 2>&1 | head -n1)); Alertmanager present ($("$alertmanager_bin" --version 2>&1 | head -n1))"

# 7. A real Kubernetes control plane for the Kubernetes adapters' tests, built from Go modules into the cache.
DR_GO_BIN="$go_bin" bash "$root/scripts/build-kubernetes.sh"

# 8. Proof and transport: ssh-keygen checks signed approvals both ways in tests (an auditor verifies them
#    with it alone), openssl makes the test CA, and haproxy terminates TLS with client certificates in front
#    of the dev server. Not stunnel: it cannot negotiate ALPN h2, and the worker's gRPC client (Core) refuses
#    a TLS connection without it ("H2NotNegotiated").
missing_debs=()
command -v ssh-keygen >/dev/null 2>&1 || missing_debs+=(openssh-client)
command -v openssl >/dev/null 2>&1 || missing_debs+=(openssl)
[ -x "${DR_HAPROXY:-/usr/sbin/haproxy}" ] || missing_debs+=(haproxy)
if [ "${#missing_debs[@]}" -gt 0 ]; then
  apt_install "${missing_debs[@]}"
else
  say "ssh-keygen, openssl and haproxy present"
fi

say "ready"
