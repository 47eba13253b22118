#!/bin/sh
# Fill the secrets into the generated Asterisk configuration and start Asterisk in the foreground.
# Secrets come from FAXLINE_AMI_SECRET / FAXLINE_SIP_PASSWORD or their *_FILE variants (Docker secrets).
# There are no defaults: a missing secret stops the container with a message naming it.
set -eu
umask 007

die() { echo "faxline-asterisk: $*" >&2; exit 1; }

# load NAME: NAME or NAME_FILE (exactly one) → exported NAME
load() {
    name=$1
    eval "value=\${$name:-}"
    eval "file=\${${name}_FILE:-}"
    if [ -n "$file" ]; then
        [ -z "$value" ] || die "set $name or ${name}_FILE, not both"
        [ -r "$file" ] || die "cannot read ${name}_FILE ($file)"
        value=$(cat "$file")
    fi
    [ -n "$value" ] || die "$name (or ${name}_FILE) is required; there is no default"
    case $value in
        *";"* | *"
"* | " "* | *" ") die "$name contains ';', a newline or surrounding spaces, which Asterisk's config cannot carry" ;;
    esac
    export "$name=$value"
}

src=/etc/faxline/asterisk
dst=/etc/asterisk
load FAXLINE_AMI_SECRET
if grep -q 'FAXLINE_SIP_PASSWORD' "$src/pjsip.conf"; then
    load FAXLINE_SIP_PASSWORD
fi

for f in "$src"/*.conf; do
    name=$(basename "$f")
    # Only our two placeholders are substituted; any other ${...} (dialplan variables) stays as written.
    envsubst '${FAXLINE_AMI_SECRET} ${FAXLINE_SIP_PASSWORD}' <"$f" >"$dst/.$name.tmp"
    chmod 600 "$dst/.$name.tmp"
    mv "$dst/.$name.tmp" "$dst/$name"
done

# Asterisk does not need the secrets in its environment.
unset FAXLINE_AMI_SECRET FAXLINE_SIP_PASSWORD FAXLINE_AMI_SECRET_FILE FAXLINE_SIP_PASSWORD_FILE
exec asterisk -f -vvv
