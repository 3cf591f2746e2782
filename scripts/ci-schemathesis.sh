#!/usr/bin/env bash
# Schemathesis over the whole API schema, as a commission officer and as an enterprise user,
# against a live server on a fresh SQLite demo district. Fails on any 5xx, any response that
# violates the schema (the error body included), any undocumented status or content type.
#
# Bounded for CI: SCHEMATHESIS_EXAMPLES cases per operation (default 12; the "coverage" phase,
# SCHEMATHESIS_PHASES=examples,coverage,fuzzing, adds boundary cases but takes minutes), a fixed
# seed (SCHEMATHESIS_SEED) so a failure reproduces. One worker: hypothesis parses source with
# `ast` and CPython 3.11 fails ("AST constructor recursion depth mismatch") when two threads do.
# Prints the number of cases run per user.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-.venv/bin}"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-12}"
SEED="${SCHEMATHESIS_SEED:-20261202}"
PHASES="${SCHEMATHESIS_PHASES:-examples,fuzzing}"
# A free port unless one is given: a server left on a fixed port would be fuzzed instead.
PORT="${SCHEMATHESIS_PORT:-$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
WORK="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export KECHUANG_VAR_DIR="$WORK/var" DATABASE_URL="" DEBUG=0 HTTPS=0 STATIC_MANIFEST=0
export ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=ERROR TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend
export SECRET_KEY="schemathesis-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
kechuang() { "$BIN/python" -m kechuang "$@"; }

echo "--- schemathesis: demo district on SQLite"
kechuang migrate --noinput -v0
kechuang demo-data --enterprises "${SCHEMATHESIS_ENTERPRISES:-100}" -v0
tokens="$(kechuang shell -v0 -c '
from rest_framework.authtoken.models import Token
from kechuang.core.models import User
for name in ("officer", "enterprise"):
    print(name, Token.objects.get_or_create(user=User.objects.get(username=name))[0].key)
')"

# The server itself in the background (not through the shell function, whose subshell the
# clean-up would kill while the server lived on).
"$BIN/python" -m kechuang runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 60); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server did not start:"; cat "$WORK/server.log"; exit 1
  fi
  curl -fsS "http://127.0.0.1:$PORT/api/schema" -o "$WORK/schema.yaml" 2>/dev/null && break
  sleep 1
done

status=0
while read -r user token; do
  echo "--- schemathesis as $user ($EXAMPLES examples per operation, seed $SEED)"
  if ! "$BIN/schemathesis" run "$WORK/schema.yaml" --url "http://127.0.0.1:$PORT" \
      -H "Authorization: Token $token" \
      --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
      --phases "$PHASES" --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
      --request-timeout 60 --no-color >"$WORK/$user.log" 2>&1; then
    status=1
    cat "$WORK/$user.log"
  fi
  # The summary: operations tested, cases generated and failures found.
  sed -n '/^=* SUMMARY/,$p' "$WORK/$user.log" | grep -E "Tested|generated|Failures|ST[0-9]+|passed|failed" || true
done <<<"$tokens"

if [ "$status" -ne 0 ]; then
  echo "--- server log"
  tail -n 200 "$WORK/server.log"
fi
exit "$status"
