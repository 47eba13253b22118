#!/bin/sh
# Start `faxline` after turning <NAME>_FILE (Docker secrets) into <NAME> for the API server's secret
# variables, which are read from the environment. The agent reads its own FAXLINE_<SECTION>__<KEY>_FILE itself.
# No defaults: an unreadable file, or a variable set both ways, stops the container with a message naming it.
set -eu
umask 007

die() { echo "faxline-entrypoint: $*" >&2; exit 1; }

for name in API_KEY FAXLINE_AGENT_SECRET FAXLINE_SERVER_SECRET ASTERISK_INBOUND_SECRET; do
    eval "file=\${${name}_FILE:-}"
    [ -n "$file" ] || continue
    eval "value=\${$name:-}"
    [ -z "$value" ] || die "set $name or ${name}_FILE, not both"
    [ -r "$file" ] || die "cannot read ${name}_FILE ($file)"
    value=$(cat "$file")
    [ -n "$value" ] || die "${name}_FILE ($file) is empty"
    export "$name=$value"
    unset "${name}_FILE"
done

exec faxline "$@"
