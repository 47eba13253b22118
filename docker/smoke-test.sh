#!/bin/sh
# Builds the images and sends one fax through the real API and agent containers (non-root users, the shared spool
# volume, Docker secrets) on the loopback line; checks the job ends SUCCESS and the spool's owners and modes.
# Needs a Docker engine and compose (v2 `docker compose`, or v1 `docker-compose`). Leaves nothing running.
#
#   docker/smoke-test.sh
set -eu
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then dc="docker compose"; else dc="docker-compose"; fi
export COMPOSE_PROJECT_NAME=faxline-smoke
secrets=$(mktemp -d)
export FAXLINE_SECRETS_DIR="$secrets"
files="-f docker-compose.yml -f docker/compose.loopback.yml"
cleanup() { $dc $files down -v --remove-orphans >/dev/null 2>&1 || true; rm -rf "$secrets"; }
trap cleanup EXIT

docker/gen-secrets.sh "$secrets" >/dev/null
echo "unused-in-the-loopback-smoke-test-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" >"$secrets/sip_password"
chgrp 10000 "$secrets/sip_password" && chmod 0640 "$secrets/sip_password"

DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1 $dc $files build api agent
$dc $files up -d --no-deps api agent

key=$(cat "$secrets/api_key")
api=http://127.0.0.1:8080
for _ in $(seq 1 60); do curl -fsS "$api/health" >/dev/null 2>&1 && break; sleep 1; done
id=$(curl -fsS -H "X-API-Key: $key" -F to=+15551230001 -F file=@fixtures/pdf/dummy.pdf "$api/fax" |
    sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "smoke: submission failed" >&2; exit 1; }
echo "smoke: job $id submitted"
status=""
for _ in $(seq 1 120); do
    status=$(curl -fsS -H "X-API-Key: $key" "$api/fax/$id" | sed -n 's/.*"status" *: *"\([^"]*\)".*/\1/p')
    case $status in SUCCESS | FAILED) break ;; esac
    sleep 2
done
curl -fsS -H "X-API-Key: $key" "$api/fax/$id"; echo
echo "smoke: spool as the agent sees it:"
$dc $files exec -T agent sh -c 'id; ls -lanR /var/spool/faxline | head -40'
$dc $files logs --no-color agent | tail -20
[ "$status" = SUCCESS ] || { echo "smoke: job ended $status" >&2; exit 1; }
echo "smoke: SUCCESS through the containers"
# A stop is SIGTERM (stop_signal) and both processes finish cleanly: exit code 0, not 137 (killed) or 143.
$dc $files stop agent api
for svc in agent api; do
    code=$(docker inspect -f '{{.State.ExitCode}}' "$($dc $files ps -q $svc)")
    echo "smoke: $svc exited $code after SIGTERM"
    [ "$code" = 0 ] || exit 1
done
