#!/usr/bin/env bash
# The system pieces `make test` needs besides .venv*, checked before any test runs:
#   - PostgreSQL on 127.0.0.1:5432, user postgres, trust auth: the end-to-end and hands-off tests give
#     each Airflow a fresh database there, as in production (tests/support/stack.py).
#   - the psql client: the compose database set-up script is run with it (infra/postgres/).
#   - Redis on 127.0.0.1:6379: Superset's production mode keeps its caches and Celery queue there.
#   - /usr/bin/chromium and the Noto CJK fonts: the browser tests render the Japanese dashboards.
# Present: returns in well under a second. Missing: installs with apt when run as root, otherwise
# stops at once with the exact command to run, instead of a wall of failing tests.
set -euo pipefail

die() { printf 'test prerequisites: %s\n' "$1" >&2; shift; printf '%s\n' "$@" >&2; exit 1; }
can_install() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; }
apt_install() {
    echo "test prerequisites: apt-get install $*"
    apt-get update -qq || die "apt-get update failed; install by hand: apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get install failed; install by hand: apt-get install -y $*"
}

# --- PostgreSQL ----------------------------------------------------------------------------------
pg_ok() {  # a query where psql exists (the tests need trust auth for postgres over TCP), else the port
    if command -v psql >/dev/null; then
        PGCONNECT_TIMEOUT=3 psql -w -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' \
            >/dev/null 2>&1
    else
        (: </dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

# The Debian cluster configured for port 5432 (highest version if several), as "version name".
cluster_5432() {
    command -v pg_lsclusters >/dev/null || return 0
    pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 {print $1, $2}' | sort -V | tail -n 1
}

# Trust auth for local and 127.0.0.1 connections, as this project's CI machine is configured. Only
# applied to a cluster this script has just created: a developer's own cluster is left alone.
trust_localhost() {  # version name
    local hba="/etc/postgresql/$1/$2/pg_hba.conf"
    cp "$hba" "$hba.before-kouiki"
    printf '%s\n' "# written by kouiki infra/test-prerequisites.sh (original: pg_hba.conf.before-kouiki)" \
        "local all all trust" "host all all 127.0.0.1/32 trust" >"$hba"
}

# The newest PostgreSQL server installed (Debian layout), if any.
newest_server() {
    local bin
    for bin in /usr/lib/postgresql/*/bin/postgres; do
        if [ -x "$bin" ]; then basename "$(dirname "$(dirname "$bin")")"; fi
    done \
        | sort -V | tail -n 1
}

if ! pg_ok; then
    created=0
    cluster=$(cluster_5432)
    if [ -z "$cluster" ]; then
        can_install || die "no PostgreSQL cluster on port 5432. Run:" \
            "    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql" \
            "then, to start it with trust auth on 127.0.0.1 as the tests expect: sudo $0"
        [ -n "$(newest_server)" ] || apt_install postgresql  # its postinst creates cluster main on 5432
        cluster=$(cluster_5432)
        if [ -z "$cluster" ]; then  # server without a cluster on 5432 (dropped, or 5432 was taken)
            pg_createcluster "$(newest_server)" main --port 5432 >/dev/null \
                || die "could not create a PostgreSQL cluster on port 5432 (pg_lsclusters shows the existing ones)"
            cluster=$(cluster_5432)
        fi
        created=1
    fi
    read -r version name <<<"$cluster"
    [ "$created" -eq 0 ] || trust_localhost "$version" "$name"
    # apt does not start it in containers (policy-rc.d), and systemd may be absent: start directly.
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        [ "$(id -u)" -eq 0 ] || die "PostgreSQL $version/$name is not running. Run:" \
            "    sudo pg_ctlcluster $version $name start"
        pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
    elif [ "$created" -eq 1 ]; then
        pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload
    fi
    pg_ok || die "PostgreSQL $version/$name runs but user postgres cannot log in over 127.0.0.1" \
        "without a password. Add this line before the others in /etc/postgresql/$version/$name/pg_hba.conf:" \
        "    host all postgres 127.0.0.1/32 trust" \
        "then: sudo pg_ctlcluster $version $name reload"
fi

# --- Redis -----------------------------------------------------------------------------------------
redis_ok() { (: </dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! redis_ok; then
    if ! command -v redis-server >/dev/null; then
        can_install || die "no Redis on 127.0.0.1:6379. Run:" \
            "    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server"
        apt_install redis-server
    fi
    # apt does not start it in containers, and systemd may be absent: start it directly, in memory only.
    redis_ok || redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do redis_ok && break; sleep 0.3; done
    redis_ok || die "Redis does not answer on 127.0.0.1:6379"
fi

# --- psql, Chromium and fonts -------------------------------------------------------------------
packages=()
command -v psql >/dev/null || packages+=(postgresql-client)
[ -x /usr/bin/chromium ] || packages+=(chromium)
if ! command -v fc-list >/dev/null; then
    packages+=(fontconfig fonts-noto-cjk)
# not grep -q: it exits at the first match, fc-list gets SIGPIPE and pipefail makes that a failure
elif ! fc-list : family 2>/dev/null | grep -i "noto sans cjk" >/dev/null; then
    packages+=(fonts-noto-cjk)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    can_install || die "missing for the tests: ${packages[*]}. Run:" \
        "    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages[*]}"
    apt_install "${packages[@]}"
fi
