#!/bin/sh
# Create the secrets directory docker-compose.yml needs (FAXLINE_SECRETS_DIR): one random value per file.
# Compose (without swarm) bind-mounts secret files with their host owner and mode, and the containers run as
# uids 10001 (faxline) and 10010 (asterisk) in group 10000 (faxspool): so the files are 0640 and the directory
# 0750, group 10000 (FAXLINE_SECRETS_GID to change it), readable by nobody else. Run it as root (or as a member of
# that group) so it can set the group. Existing files are never overwritten. The SIP password comes from your carrier:
# pass it as FAXLINE_SIP_PASSWORD, or write it into <dir>/sip_password yourself.
#
#   docker/gen-secrets.sh /srv/faxline/secrets
set -eu
umask 077
dir=${1:?usage: gen-secrets.sh <directory>}
mkdir -p "$dir"

random() {
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -hex 32
    else
        od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
        echo
    fi
}

for name in ami_secret agent_secret api_key; do
    if [ -e "$dir/$name" ]; then
        echo "kept     $dir/$name"
    else
        random >"$dir/$name"
        echo "created  $dir/$name"
    fi
done

if [ ! -e "$dir/sip_password" ]; then
    if [ -n "${FAXLINE_SIP_PASSWORD:-}" ]; then
        printf '%s\n' "$FAXLINE_SIP_PASSWORD" >"$dir/sip_password"
        echo "created  $dir/sip_password"
    else
        echo "missing  $dir/sip_password: write your carrier's SIP password into it" >&2
    fi
fi

gid=${FAXLINE_SECRETS_GID:-10000}
if chgrp "$gid" "$dir" "$dir"/* 2>/dev/null; then
    chmod 0750 "$dir"
    chmod 0640 "$dir"/*
else
    echo "warning: could not give $dir to group $gid: the containers (group $gid) cannot read the secrets;" >&2
    echo "         run: chgrp -R $gid $dir && chmod 0750 $dir && chmod 0640 $dir/*" >&2
fi
