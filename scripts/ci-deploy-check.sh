#!/usr/bin/env bash
# Deploy the production way on this checkout and fetch what a user and a load balancer fetch:
# DEBUG=0, PostgreSQL, migrate, collectstatic (manifest), gunicorn + `kechuang worker`, then the
# login page (Chinese), a hashed static asset, an API page with a token, and /healthz with a
# live worker. Everything it starts is stopped and its database dropped on exit.
# Usage: scripts/ci-deploy-check.sh   (after `make install`; PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${KECHUANG_BIN:-.venv/bin}
if ! command -v curl >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
db="kechuang_deploy_$(date +%s)_$$"
work=$(mktemp -d)
port=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
gunicorn_pid=""
worker_pid=""

cleanup() {
  local rc=$?
  for pid in $gunicorn_pid $worker_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $gunicorn_pid $worker_pid; do
    wait "$pid" 2>/dev/null || true
  done
  if [ $rc -ne 0 ]; then
    echo "--- gunicorn log"; tail -n 40 "$work/gunicorn.log" 2>/dev/null || true
    echo "--- worker log"; tail -n 40 "$work/worker.log" 2>/dev/null || true
  fi
  psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

fail() { echo "deploy check FAILED: $*" >&2; exit 1; }

# The production environment: nothing DEBUG, HTTPS on (as behind the TLS proxy), a real key.
export DEBUG=0
export SECRET_KEY="ci-deploy-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export BEHIND_TLS_PROXY=1
export DATABASE_URL="$PGURL/$db"
export KECHUANG_VAR_DIR="$work/var"
export STATIC_ROOT="$work/static"
unset STATIC_MANIFEST WHITENOISE_USE_FINDERS HTTPS
proxied=(-H "X-Forwarded-Proto: https")

psql "$PGURL/postgres" -qc "CREATE DATABASE $db"
"$BIN/kechuang" migrate --noinput -v 0
"$BIN/kechuang" collectstatic --noinput -v 0
test -s "$STATIC_ROOT/staticfiles.json" || fail "collectstatic wrote no manifest"
DJANGO_SUPERUSER_PASSWORD="ci-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  "$BIN/kechuang" createsuperuser --noinput --username ci-admin --email ci@example.invalid
token=$("$BIN/kechuang" drf_create_token ci-admin | awk '{print $3}')

"$BIN/gunicorn" kechuang.wsgi:application --bind "127.0.0.1:$port" --workers 2 \
  --timeout 60 --access-logfile - >"$work/gunicorn.log" 2>&1 &
gunicorn_pid=$!
"$BIN/kechuang" worker --no-startup-delay >"$work/worker.log" 2>&1 &
worker_pid=$!

# Up when /healthz (plain HTTP, as a load-balancer probe) reports the worker's heartbeat.
health=""
for _ in $(seq 1 60); do
  health=$(curl -fsS "$base/healthz" 2>/dev/null || true)
  case "$health" in *'"worker": "ok"'*) break ;; esac
  kill -0 "$gunicorn_pid" 2>/dev/null || fail "gunicorn exited"
  kill -0 "$worker_pid" 2>/dev/null || fail "the worker exited"
  sleep 0.5
done
[ "$health" = '{"status": "ok", "database": "ok", "worker": "ok"}' ] \
  || fail "/healthz answered '$health'"

status_of() { curl -s -o "$work/body" -w '%{http_code}' "${proxied[@]}" "$@"; }

code=$(status_of "$base/accounts/login/")
[ "$code" = 200 ] || fail "login page: HTTP $code"
grep -q '登录' "$work/body" || fail "login page is not in Chinese"
grep -q 'lang="zh-hans"' "$work/body" || fail "login page lang is not zh-hans"

asset=$("$BIN/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["paths"]["vendor/bootstrap/bootstrap.min.css"])' "$STATIC_ROOT/staticfiles.json")
grep -q "/static/$asset" "$work/body" || fail "login page does not link the hashed $asset"
code=$(status_of "$base/static/$asset")
[ "$code" = 200 ] || fail "static asset /static/$asset: HTTP $code"

code=$(status_of -H "Authorization: Token $token" "$base/api/enterprises/")
[ "$code" = 200 ] || fail "API page: HTTP $code"
"$BIN/python" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert "results" in d, d' \
  "$work/body" || fail "API page is not a JSON list"
code=$(status_of "$base/api/enterprises/")
[ "$code" = 401 ] || [ "$code" = 403 ] || fail "API without a token: HTTP $code"

kill -0 "$worker_pid" 2>/dev/null || fail "the worker is not running"
kill -0 "$gunicorn_pid" 2>/dev/null || fail "gunicorn is not running"
echo "deploy check passed: gunicorn (2 workers) + worker on PostgreSQL, DEBUG=0, port $port"
