#!/usr/bin/env bash
# Developer harness for the im_livechat_ticket Odoo 18 addon.
#
#   tools/dev.sh run      install what is missing, create the demo db once, serve it behind nginx
#   tools/dev.sh test     run the addon's tests in a throwaway database
#   tools/dev.sh update   upgrade the addon (-u) in the demo database
#   tools/dev.sh shell    odoo shell on the demo database
#   tools/dev.sh dropdb   drop the demo database and its filestore
#   tools/dev.sh clean    remove generated state (addons link, stamps, nginx files, logs)
#   tools/dev.sh bench    measure latency and scale against stock paths (python -m bench, bench/README.md)
#   tools/dev.sh faults   inject faults (socket drops, Odoo and PostgreSQL restarts) and count lost messages
#   tools/dev.sh bench-queue  time the agent queue and the customer list at 100,000+ tickets
#   tools/dev.sh lint     run the linters and format checks (pre-commit) on the tracked files
#   tools/dev.sh format   apply the formatters and autofixes, then lint
#
# Everything generated lives in the cache dir (IMLT_HOME), never in the checkout.
# Settings (environment): IMLT_HOME, IMLT_DB, IMLT_PORT, IMLT_LISTEN, ODOO_SRC, TEST_TAGS,
# LINT=0 (test without lint), FIX=1 (lint = format), IMLT_AXE_JS (an axe.min.js of your own).
set -euo pipefail

MODULE=im_livechat_ticket
# The checkout may live anywhere under any name: the addons link gives it its module name.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
: "${HOME:=$(cd ~ && pwd)}"
CACHE=${IMLT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/$MODULE}
mkdir -p "$CACHE" && CACHE=$(cd "$CACHE" && pwd -P)   # absolute: it ends up in Odoo's addons path
DB=${IMLT_DB:-${MODULE}_demo}
PORT=${IMLT_PORT:-8069}            # nginx, what the browser uses
LISTEN=${IMLT_LISTEN:-127.0.0.1}   # set 0.0.0.0 to expose the demo on the network
ODOO_PORT=8070                     # Odoo's HTTP workers, behind nginx
GEVENT_PORT=8072                   # Odoo's websocket (gevent) process, behind nginx
# The websocket process's own database pool (doc/deployment.md, "Database pool"): its borrowers
# wait for a connection (patches/db_pool_wait.py), so a reconnect storm queues here instead of
# failing, and the whole server stays within PostgreSQL's default max_connections (100).
GEVENT_MAXCONN=32
SMTP_PORT=${IMLT_SMTP_PORT:-8025}  # the demo's local SMTP server (tests/smtp_server.py)
VENV=$CACHE/venv
PY=$VENV/bin/python
DATA_DIR=$CACHE/data               # Odoo filestore and sessions
LOG_DIR=$CACHE/logs
STAMPS=$CACHE/stamps
# One addons dir per checkout, so two checkouts never test each other's code.
ADDONS_DIR=$CACHE/addons/$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
# The tests' database also gets Odoo's OAuth sign-in and, where it installed, OCA's OpenID
# Connect (tests/test_sso.py); the addon itself depends on neither.
OIDC_ADDON='odoo-addon-auth-oidc==18.0.*'

log() { printf '[dev] %s\n' "$*" >&2; }
die() { printf '[dev] error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Run as the postgres OS user; cd / so it does not complain about our cwd.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@")
    else (cd / && sudo -u postgres "$@"); fi
}

# ---------------------------------------------------------------- packages

# Install the Debian packages that are not installed yet; apt only when needed.
ensure_debs() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# $1 = run|test: what the command needs besides PostgreSQL and Odoo's build dependencies.
ensure_system() {
    local pkgs=(postgresql libldap2-dev libsasl2-dev libpq-dev libxml2-dev libxslt1-dev
                libjpeg-dev zlib1g-dev libffi-dev libssl-dev build-essential python3-dev)
    command -v python3 >/dev/null || pkgs+=(python3)
    # Debian's python3 can only make a venv with python3-venv (ensurepip).
    command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
    case $1 in
        run|bench) pkgs+=(nginx wkhtmltopdf) ;;   # bench: its scale-out phase puts nginx before two servers
        test)
            # wkhtmltopdf: Odoo's QWeb PDF reports (the ticket transcript)
            pkgs+=(fonts-dejavu-core wkhtmltopdf)
            # Odoo's browser tests look for any of these executables.
            command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
                || command -v google-chrome >/dev/null || pkgs+=(chromium)
            ;;
    esac
    ensure_debs "${pkgs[@]}"
}

# ---------------------------------------------------------------- odoo source

# Sets ODOO_SRC: (a) importable odoo 18, (b) $ODOO_SRC, (c) a clone in the cache.
find_odoo() {
    local src
    # find_spec + release.py instead of "import odoo": same answer, 1 s faster.
    src=$(cd / && python3 - 2>/dev/null <<'EOF'
import importlib.util, os, runpy
spec = importlib.util.find_spec("odoo")
pkg = spec.submodule_search_locations[0]
assert runpy.run_path(os.path.join(pkg, "release.py"))["version_info"][0] == 18
print(os.path.dirname(pkg))
EOF
    ) || src=""
    if [ -n "$src" ]; then
        ODOO_SRC=$src
    elif [ -n "${ODOO_SRC:-}" ]; then
        grep -Eq '^version_info = \(18,' "$ODOO_SRC/odoo/release.py" 2>/dev/null \
            || die "ODOO_SRC=$ODOO_SRC is not an Odoo 18 source tree"
        ODOO_SRC=$(cd "$ODOO_SRC" && pwd -P)
    else
        ODOO_SRC=$CACHE/odoo
        if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
            ensure_debs git ca-certificates
            log "cloning Odoo 18.0 into $ODOO_SRC"
            rm -rf "$ODOO_SRC.partial"
            git clone -q --depth 1 -b 18.0 https://github.com/odoo/odoo "$ODOO_SRC.partial"
            mv "$ODOO_SRC.partial" "$ODOO_SRC"
        fi
    fi
    ADDONS_PATH=$ODOO_SRC/odoo/addons
    [ -d "$ODOO_SRC/addons" ] && ADDONS_PATH+=,$ODOO_SRC/addons
    ADDONS_PATH+=,$ADDONS_DIR
}

# ---------------------------------------------------------------- python

# A venv that sees the system site-packages, so an installed Odoo and its deps are reused.
make_venv() {
    mkdir -p "$CACHE" "$STAMPS"
    if ! "$PY" -c '' 2>/dev/null; then   # missing, or its base python went away
        log "creating virtualenv $VENV"
        rm -rf "$VENV"
        python3 -m venv --system-site-packages "$VENV"
    fi
}

ensure_venv() {
    make_venv
    # Make the venv import the Odoo tree we picked (also for "python -c 'import odoo'").
    local site pth
    site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    pth=$site/im_livechat_ticket_odoo.pth
    [ "$(cat "$pth" 2>/dev/null)" = "$ODOO_SRC" ] || printf '%s\n' "$ODOO_SRC" >"$pth"

    # Install Odoo's requirements once per distinct requirement set.
    local reqs stamp hash
    reqs=$CACHE/requirements.txt
    {
        [ -f "$ODOO_SRC/requirements.txt" ] && python3 "$ROOT/tools/odoo_requirements.py" "$ODOO_SRC/requirements.txt"
        echo websocket-client   # Odoo's websocket tests need it
        echo aiosmtpd           # the local SMTP server of the e-mail tests and of 'make run'
        echo 'Authlib==1.6.*'   # the identity provider of the single sign-on tests
        echo python-jose        # what OCA's auth_oidc (below) checks OpenID tokens with
    } >"$reqs"
    hash=$({ cat "$reqs"; echo "$OIDC_ADDON"; "$PY" -V; } | sha256sum | cut -d' ' -f1)
    stamp=$STAMPS/requirements.sha256
    [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ] && return 0
    log "installing Python requirements into $VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$reqs"
    # OCA's auth_oidc, an optional extra the single sign-on tests try. --no-deps: it requires
    # the "odoo" distribution, which Odoo's source tree is not.
    "$PY" -m pip install -q --disable-pip-version-check --no-deps "$OIDC_ADDON" \
        || log "warning: could not install $OIDC_ADDON; the tests of auth_oidc will be skipped"
    echo "$hash" >"$stamp"
}

# ---------------------------------------------------------------- postgresql

ensure_postgres() {
    if ! pg_isready -q 2>/dev/null; then
        log "starting PostgreSQL"
        if command -v pg_lsclusters >/dev/null; then
            if [ -z "$(pg_lsclusters --no-header 2>/dev/null)" ]; then
                # Installed without a cluster (e.g. dropped): make the default one.
                as_root pg_createcluster "$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)" main
            fi
            local ver name _port status _rest
            while read -r ver name _port status _rest; do
                [ "$status" = online ] || as_root pg_ctlcluster "$ver" "$name" start || true
            done < <(pg_lsclusters --no-header)
        fi
        pg_isready -q 2>/dev/null || as_root service postgresql start || true
        local _
        for _ in $(seq 30); do pg_isready -q 2>/dev/null && break; sleep 1; done
        pg_isready -q || die "PostgreSQL does not answer on its Unix socket"
    fi
    # Odoo refuses the postgres role: use a superuser named after the OS user (socket, peer auth).
    [ "$(id -un)" != postgres ] || die "do not run as the postgres OS user"
    if ! psql -X -q -d postgres -c '' 2>/dev/null; then
        log "creating PostgreSQL superuser $(id -un)"
        as_postgres createuser -s "$(id -un)"
    fi
}

db_exists() {
    [ "$(psql -X -A -t -q -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

module_installed() {
    [ "$(psql -X -A -t -q -d "$1" -c "SELECT state FROM ir_module_module WHERE name = '$MODULE'" 2>/dev/null)" = installed ]
}

drop_database() {
    dropdb --if-exists --force "$1" 2>/dev/null || log "warning: could not drop database $1"
    rm -rf "${DATA_DIR:?}/filestore/$1"
}

# ---------------------------------------------------------------- odoo

ensure_addons_link() {
    mkdir -p "$ADDONS_DIR" "$DATA_DIR" "$LOG_DIR"
    ln -sfn "$ROOT" "$ADDONS_DIR/$MODULE"
    # An empty config file keeps a user's ~/.odoorc out of our runs.
    [ -f "$CACHE/odoo.conf" ] || printf '[options]\n' >"$CACHE/odoo.conf"
}

odoo_bin() {
    local cmd=("$PY" "$ODOO_SRC/odoo-bin")
    [ -f "$ODOO_SRC/odoo-bin" ] || cmd=("$PY" -m odoo)   # pip-installed Odoo
    # ODOO_EXEC=1: replace the (background) subshell, so $! is Odoo's own pid.
    ${ODOO_EXEC:+exec} "${cmd[@]}" "$@" -c "$CACHE/odoo.conf" --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR"
}

setup() {
    ensure_system "$1"
    find_odoo
    ensure_venv
    ensure_postgres
    ensure_addons_link
}

ensure_demo_db() {
    if db_exists "$DB" && module_installed "$DB"; then return 0; fi
    log "installing $MODULE with demo data into database $DB (first run only, takes a few minutes)"
    odoo_bin -d "$DB" -i "$MODULE" --stop-after-init --max-cron-threads=0 \
        || die "installing $MODULE into $DB failed (see above); fix and rerun, or 'make dropdb'"
    module_installed "$DB" || die "$MODULE is not installed in $DB (see above)"
}

# True when something accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port=$1
    while port_busy "$port"; do port=$((port + 1)); done
    echo "$port"
}

# ---------------------------------------------------------------- accessibility

AXE_CORE_VERSION=4.14.1

# axe-core (pinned), for tests/test_accessibility.py: installed from npm once into the cache
# dir, reused offline afterwards. Exports IMLT_AXE_JS, the path of its axe.min.js (a value
# already in the environment wins, e.g. a copy of your own). If npm fails, the path stays
# set and the test fails saying the file is missing: it is never skipped by accident.
ensure_axe_core() {
    [ -z "${IMLT_AXE_JS:-}" ] || { export IMLT_AXE_JS; return 0; }
    local dir=$CACHE/axe-core/$AXE_CORE_VERSION
    export IMLT_AXE_JS=$dir/node_modules/axe-core/axe.min.js
    [ -f "$IMLT_AXE_JS" ] && return 0
    command -v npm >/dev/null || ensure_debs nodejs npm
    log "installing axe-core $AXE_CORE_VERSION from npm into $dir"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    if npm install --prefix "$dir.partial" --no-save --no-audit --no-fund --ignore-scripts \
            --loglevel=error "axe-core@$AXE_CORE_VERSION" >&2 \
        && [ -f "$dir.partial/node_modules/axe-core/axe.min.js" ]; then
        rm -rf "$dir"
        mv "$dir.partial" "$dir"
    else
        rm -rf "$dir.partial"
        log "warning: could not install axe-core $AXE_CORE_VERSION (offline?): the accessibility test will fail"
    fi
}

# ---------------------------------------------------------------- lint

PRE_COMMIT_VERSION=4.7.0

# pre-commit (pinned) in the venv; the hooks' own environments (.pre-commit-config.yaml,
# installed from PyPI and npm on first use) in the cache dir.
ensure_lint_tools() {
    local pkgs=()
    command -v git >/dev/null || pkgs+=(git ca-certificates)
    command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
    command -v python3 >/dev/null || pkgs+=(python3)
    command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
    [ ${#pkgs[@]} -eq 0 ] || ensure_debs "${pkgs[@]}"
    git -C "$ROOT" rev-parse --show-toplevel >/dev/null 2>&1 \
        || die "lint checks the files git tracks: $ROOT is not a git checkout"
    make_venv
    if [ "$("$PY" -m pre_commit --version 2>/dev/null)" != "pre-commit $PRE_COMMIT_VERSION" ]; then
        log "installing pre-commit $PRE_COMMIT_VERSION into $VENV"
        "$PY" -m pip install -q --disable-pip-version-check "pre-commit==$PRE_COMMIT_VERSION"
    fi
    export PRE_COMMIT_HOME=${PRE_COMMIT_HOME:-$CACHE/pre-commit}
    export RUFF_CACHE_DIR=$CACHE/ruff
    [ -d "$PRE_COMMIT_HOME" ] || log "first lint run: pre-commit installs its hooks into $PRE_COMMIT_HOME"
}

pre_commit() { (cd "$ROOT" && "$PY" -m pre_commit "$@"); }

# Every check on every tracked file; non-zero on any finding.
lint_checks() {
    if pre_commit run --all-files; then
        log "lint: no findings"
    else
        log "lint: findings above ('make format' applies the formatters and autofixes; fix the rest by hand)"
        return 1
    fi
}

cmd_lint() {
    [ "${FIX:-}" = 1 ] && { cmd_format; return; }
    ensure_lint_tools
    lint_checks
}

# The fixers (manual stage), then the checks: what is left needs a hand.
cmd_format() {
    ensure_lint_tools
    log "applying the formatters and autofixes"
    pre_commit run --all-files --hook-stage manual >/dev/null || true
    git -C "$ROOT" status --short
    lint_checks
}

# ---------------------------------------------------------------- commands

# Odoo's documented reverse-proxy setup (websocket to the gevent port), from the template the
# bench's scale-out phase fills too; the config and nginx's files in the cache dir.
write_nginx_conf() {
    local dir=$CACHE/nginx
    mkdir -p "$dir/tmp"
    # As root, nginx workers would run as nobody and could not use temp dirs under $HOME.
    local user_line=""
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    sed -e "s|@DIR@|$dir|g" -e "s|@USER@|$user_line|" -e "s|@LISTEN@|$LISTEN:$PORT|" \
        -e "s|@HTTP@|$ODOO_PORT|" -e "s|@GEVENT@|$GEVENT_PORT|" \
        "$ROOT/tools/nginx.conf.template" >"$dir/nginx.conf"
    NGINX_CONF=$dir/nginx.conf
}

SERVER_PIDS=()
stop_servers() {
    trap - INT TERM EXIT
    local pid _
    for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do   # Odoo shuts down gracefully; give it 10 s
        local alive=0
        for pid in "${SERVER_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.2
    done
    for pid in "${SERVER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    log "stopped"
}

cmd_run() {
    setup run
    ensure_demo_db
    local p
    for p in "$PORT" "$ODOO_PORT" "$GEVENT_PORT" "$SMTP_PORT"; do
        port_busy "$p" && die "port $p is in use (another 'make run'?); set IMLT_PORT for nginx's port"
    done
    write_nginx_conf
    cat <<EOF

$MODULE demo on http://localhost:$PORT
  agent:    login agent     password agent
  customer: login customer  password customer
  admin:    login admin     password admin
  e-mails Odoo sends: $CACHE/mail/*.eml (local SMTP server on 127.0.0.1:$SMTP_PORT)

EOF
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap stop_servers EXIT
    # Every e-mail Odoo sends lands in $CACHE/mail as an .eml file (README, "E-mail").
    "$PY" "$ROOT/tests/smtp_server.py" --port "$SMTP_PORT" --dir "$CACHE/mail" &
    SERVER_PIDS+=($!)
    # Production-like: prefork workers + gevent websocket process, behind a reverse proxy.
    ODOO_EXEC=1 odoo_bin -d "$DB" --db-filter="^$DB\$" --proxy-mode \
        --workers=2 --max-cron-threads=1 --smtp=127.0.0.1 --smtp-port="$SMTP_PORT" \
        --http-interface=127.0.0.1 --http-port="$ODOO_PORT" --gevent-port="$GEVENT_PORT" \
        --db_maxconn_gevent="$GEVENT_MAXCONN" --limit-time-cpu=600 --limit-time-real=1200 &
    SERVER_PIDS+=($!)
    local nginx_args=(-c "$NGINX_CONF" -g 'daemon off;')
    # -e keeps nginx from opening /var/log/nginx/error.log before reading our config (>= 1.19.5).
    nginx -h 2>&1 | grep -q -- '-e filename' && nginx_args+=(-e "$CACHE/nginx/error.log")
    nginx "${nginx_args[@]}" &
    SERVER_PIDS+=($!)
    local _
    for _ in $(seq 120); do
        if port_busy "$ODOO_PORT" && port_busy "$GEVENT_PORT"; then
            log "ready: http://localhost:$PORT (Ctrl-C stops Odoo and nginx)"
            break
        fi
        local gone=0 pid
        for pid in "${SERVER_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || gone=1; done
        [ $gone -eq 0 ] || break
        sleep 0.5
    done
    # Serve until either process ends or we are interrupted; the EXIT trap stops the other.
    local rc=0
    wait -n || rc=$?
    exit "$rc"
}

cmd_update() {
    setup run
    if db_exists "$DB" && module_installed "$DB"; then
        log "updating $MODULE in $DB"
        odoo_bin -d "$DB" -u "$MODULE" --stop-after-init --max-cron-threads=0
    else
        ensure_demo_db
    fi
}

cmd_shell() {
    setup run
    ensure_demo_db
    odoo_bin shell -d "$DB" --no-http
}

cmd_dropdb() {
    if command -v pg_isready >/dev/null; then
        ensure_postgres
        log "dropping database $DB"
        drop_database "$DB"
    fi
}

cmd_clean() {
    rm -rf "$CACHE/addons" "$STAMPS" "$CACHE/nginx" "$LOG_DIR" "$CACHE/odoo.conf" "$CACHE/requirements.txt"
    log "cleaned $CACHE (kept: venv, Odoo clone, demo database and its data)"
}

# Print failing tests and the closing "N passed, N failed" line; return non-zero on failure.
# $3 = 1 when lint failed: it counts as one failed check.
summarize_tests() {
    local logfile=$1 odoo_rc=$2 lint_failed=${3:-0} result failures=0 errors=0 run=0 problems=()
    # one result line per Odoo run in the log (the suite, then the install checks): add them up
    result=$(grep -E 'odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$logfile" || true)
    if [ -n "$result" ]; then
        read -r failures errors run < <(sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/' <<<"$result" \
            | awk '{ f += $1; e += $2; r += $3 } END { print f, e, r }')
        [ "$run" -gt 0 ] || problems+=("no test ran (TEST_TAGS=$TEST_TAGS)")
    else
        problems+=("no test report in the log (did the install crash?)")
    fi
    local failed=$((failures + errors))
    local passed=$((run - failed))
    [ "$passed" -ge 0 ] || passed=0   # setUpClass errors count as errors but not as tests run
    # The header line of each failing test, e.g. "FAIL: TestTicket.test_close".
    grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ ERROR [^ ]+ [^ ]+: (FAIL|ERROR): ' "$logfile" \
        | sed -E 's/^.*: ((FAIL|ERROR): )/\1/' || true
    # Why a module could not be installed.
    local critical='^[0-9-]+ [0-9:,]+ [0-9]+ CRITICAL '
    grep -E "$critical|invalid module names|Some modules are not loaded" "$logfile" || true
    grep -Eq "$critical|Failed to initialize database" "$logfile" && problems+=("critical error in the log")
    # odoo-bin exits 1 when tests fail; only a reason of its own when no test failed.
    [ "$odoo_rc" -eq 0 ] || [ "$failed" -gt 0 ] || problems+=("odoo-bin exited with status $odoo_rc")
    if [ ${#problems[@]} -gt 0 ]; then
        printf 'test run failed: %s\n' "${problems[@]}"
        [ "$failed" -gt 0 ] || failed=1   # so the closing line never reads as a success
    fi
    echo "full log: $logfile"
    if [ "$lint_failed" -eq 1 ]; then
        echo "lint failed, counted as 1 failed (log: $LOG_DIR/lint-latest.log):"
        grep -E '\.Failed$' "$LOG_DIR/lint-latest.log" | sed 's/^/  /' || true
        failed=$((failed + 1))
    fi
    echo "$passed passed, $failed failed"
    [ ${#problems[@]} -eq 0 ] && [ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- install and uninstall checks

# Stock Live Chat tests (post_install, fast, green on a plain database) run after the uninstall.
STOCK_LIVECHAT_TESTS=/im_livechat:TestGetOperator,/im_livechat:TestGetDiscussChannel
STOCK_LIVECHAT_TESTS+=,/im_livechat:TestImLivechatMessage,/im_livechat:TestUploadAttachment
STOCK_LIVECHAT_TESTS+=,/im_livechat:TestImLivechatReport,/im_livechat:TestCorsLivechat
STOCK_LIVECHAT_TESTS+=,/im_livechat:TestLiveChatResUsers

# Records what a database's live chat holds before the addon comes: sessions with their
# messages, members and operator; teams with their operators and ratings. The install
# tests (tests/test_install_existing_data.py) compare against it.
snapshot_livechat_data() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
SELECT 'im_livechat_ticket.test_install_snapshot', json_build_object(
    'sessions', (
        SELECT json_object_agg(c.id, json_build_object(
            'operator', c.livechat_operator_id,
            'members', (SELECT count(*) FROM discuss_channel_member m WHERE m.channel_id = c.id),
            'messages', (SELECT count(*) FROM mail_message m
                          WHERE m.model = 'discuss.channel' AND m.res_id = c.id)))
          FROM discuss_channel c WHERE c.channel_type = 'livechat'),
    'teams', (
        SELECT json_object_agg(t.id, json_build_object(
            'operators', (SELECT coalesce(json_agg(u.user_id ORDER BY u.user_id), '[]')
                            FROM im_livechat_channel_im_user u WHERE u.channel_id = t.id),
            'ratings', (SELECT coalesce(json_object_agg(r.id, r.rating), '{}') FROM rating_rating r
                         WHERE r.parent_res_model = 'im_livechat.channel' AND r.parent_res_id = t.id),
            -- what rating.parent.mixin counts: consumed ratings of the last 14 days
            'counted_ratings', (SELECT count(*) FROM rating_rating r
                                 WHERE r.parent_res_model = 'im_livechat.channel' AND r.parent_res_id = t.id
                                   AND r.consumed AND r.rating >= 1
                                   AND r.write_date >= now() at time zone 'utc' - interval '14 days'),
            'counted_rating_avg', (SELECT coalesce(avg(r.rating), 0) FROM rating_rating r
                                    WHERE r.parent_res_model = 'im_livechat.channel' AND r.parent_res_id = t.id
                                      AND r.consumed AND r.rating >= 1
                                      AND r.write_date >= now() at time zone 'utc' - interval '14 days')))
          FROM im_livechat_channel t)
)::text, 1, 1, now() at time zone 'utc', now() at time zone 'utc';
SQL
}

# Installs the addon into a database that already has live chat data (im_livechat's demo:
# sessions with messages, ratings, operators, a team) and checks that data; uninstalls the
# addon and checks that stock Live Chat still works, then runs stock Live Chat tests.
# $1 database, $2 log file, $3 first port to try. Returns non-zero if a step crashed; the
# test results are in the log, for summarize_tests.
run_install_checks() {
    local db=$1 logfile=$2 http_port gevent_port rc=0
    http_port=$(free_port "$3")
    gevent_port=$(free_port $((http_port + 1)))
    local server=(--workers=0 --max-cron-threads=0 --http-interface=127.0.0.1
                  --http-port="$http_port" --gevent-port="$gevent_port" --log-level=test)
    {
        odoo_bin -d "$db" -i im_livechat,portal,rating --stop-after-init --max-cron-threads=0 \
            --log-level=warn \
            && snapshot_livechat_data "$db" \
            && { odoo_bin -d "$db" -i "$MODULE" --test-enable --test-tags imlt_install --stop-after-init \
                     "${server[@]}" || true; } \
            && module_installed "$db" \
            && odoo_bin shell -d "$db" --no-http --log-level=info <"$ROOT/tests/uninstall_check.py" \
            && odoo_bin -d "$db" --test-enable --test-tags "$STOCK_LIVECHAT_TESTS" --stop-after-init \
                   "${server[@]}"
    } >"$logfile" 2>&1 || rc=$?
    drop_database "$db"
    return "$rc"
}

# Runs run_install_checks in the background, beside the main suite: its own database, ports
# and log. Sets INSTALL_PID, INSTALL_TEST_DB, INSTALL_LOG.
start_install_checks() {
    INSTALL_TEST_DB=$1_install
    INSTALL_LOG=$2.install
    log "install checks in database $INSTALL_TEST_DB, beside the suite: live chat data, install, uninstall, stock tests"
    run_install_checks "$INSTALL_TEST_DB" "$INSTALL_LOG" "$3" &
    INSTALL_PID=$!
}

# Waits for the install checks, appends their log to $1; returns their status.
finish_install_checks() {
    local rc=0
    [ -n "$INSTALL_PID" ] || return 0
    log "waiting for the install checks"
    wait "$INSTALL_PID" || rc=$?
    INSTALL_PID=""
    [ "$rc" -eq 0 ] || log "install checks: a step failed (status $rc), see $1"
    sed -nE 's/^.*odoo\.tests\.result: /[dev] install checks: /p' "$INSTALL_LOG" >&2
    cat "$INSTALL_LOG" >>"$1"
    rm -f "$INSTALL_LOG"
    return "$rc"
}

# On Ctrl-C or failure: stop the install checks (the subshell and the command it runs).
stop_install_checks() {
    [ -n "${INSTALL_PID:-}" ] || return 0
    pkill -TERM -P "$INSTALL_PID" 2>/dev/null || true
    kill -TERM "$INSTALL_PID" 2>/dev/null || true
    wait "$INSTALL_PID" 2>/dev/null || true
    [ -z "${INSTALL_TEST_DB:-}" ] || drop_database "$INSTALL_TEST_DB"
}

# The sign-in modules the single sign-on tests need beside the addon: auth_oauth, and
# auth_oidc when ensure_venv could install it.
sso_test_modules() {
    local modules=auth_oauth
    "$PY" -c 'import sysconfig, os, sys
sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["purelib"],
                                         "odoo/addons/auth_oidc/__manifest__.py")))' \
        && modules+=,auth_oidc
    echo "$modules"
}

cmd_test() {
    setup test
    ensure_axe_core
    TEST_TAGS_GIVEN=${TEST_TAGS:-}
    TEST_TAGS=${TEST_TAGS:-/$MODULE}
    local db http_port gevent_port logfile rc lint_failed=0
    # Lint first (LINT=0 skips it); a failure still runs the tests and counts as one failed.
    if [ "${LINT:-1}" != 0 ]; then
        log "lint (LINT=0 skips it)"
        set +e
        # In the pipeline's subshell: a failed install (no network) is a lint failure too.
        { ensure_lint_tools && lint_checks; } 2>&1 | tee "$LOG_DIR/lint-latest.log"
        [ "${PIPESTATUS[0]}" -eq 0 ] || lint_failed=1
        set -e
    fi
    db=imlt_test_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
    http_port=$(free_port "${IMLT_TEST_PORT:-18069}")
    gevent_port=$(free_port $((http_port + 1)))
    logfile=$LOG_DIR/test-$(date +%Y%m%d-%H%M%S)-$db.log
    ln -sfn "$(basename "$logfile")" "$LOG_DIR/test-latest.log"
    # Keep the 20 newest test logs.
    find "$LOG_DIR" -name 'test-2*.log' -printf '%T@ %p\n' | sort -rn | tail -n +21 | cut -d' ' -f2- \
        | xargs -r rm -f
    TEST_DB=$db
    trap 'exit 130' INT
    trap 'exit 143' TERM
    INSTALL_PID=""
    trap 'stop_install_checks; drop_database "$TEST_DB"' EXIT   # also on failure or Ctrl-C
    # the full suite also installs into, and uninstalls from, existing live chat data
    if [ -z "$TEST_TAGS_GIVEN" ] && [ "${IMLT_INSTALL_CHECKS:-1}" != 0 ]; then
        start_install_checks "$db" "$logfile" $((gevent_port + 1))
    fi
    log "testing $TEST_TAGS in database $db (http port $http_port), log: $logfile"
    set +e
    # Threaded server, no workers: what Odoo's test runner (HttpCase, tours) expects.
    odoo_bin -d "$db" -i "$MODULE,$(sso_test_modules)" --test-enable --test-tags "$TEST_TAGS" --stop-after-init \
        --workers=0 --max-cron-threads=0 --http-interface=127.0.0.1 \
        --http-port="$http_port" --gevent-port="$gevent_port" --log-level=test 2>&1 | tee "$logfile"
    rc=${PIPESTATUS[0]}
    set -e
    drop_database "$db"
    local install_rc=0
    finish_install_checks "$logfile" || install_rc=$?
    [ "$rc" -ne 0 ] || rc=$install_rc
    trap - EXIT
    summarize_tests "$logfile" "$rc" "$lint_failed"
}

# The bench suites (bench/README.md) do the work: throwaway db, servers, clients, cleanup.
# This reuses the setup and hands them Odoo's command and settings. $1: bench|faults|queue.
run_bench() {
    setup bench
    "$PY" -c 'import aiohttp' 2>/dev/null \
        || "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/bench/requirements.txt" \
        || die "could not install aiohttp into $VENV"
    local odoo_cmd=("$ODOO_SRC/odoo-bin")
    [ -f "$ODOO_SRC/odoo-bin" ] || odoo_cmd=(-m odoo)
    cd "$ROOT" && exec "$PY" -m bench "$1" --odoo "${odoo_cmd[@]}" -- -c "$CACHE/odoo.conf" \
        --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR"
}

# Latency and scale, ours against stock paths.
cmd_bench() { run_bench bench; }

# Fault injection: its own throwaway PostgreSQL cluster, the same Odoo and venv.
cmd_faults() { run_bench faults; }

# The queue and the customer list at scale: tickets generated in SQL.
cmd_bench_queue() { run_bench queue; }

case ${1:-} in
    run|test|update|shell|dropdb|clean|bench|faults|lint|format) "cmd_$1" ;;
    bench-queue) cmd_bench_queue ;;
    *) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
