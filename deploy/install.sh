#!/usr/bin/env bash
# Lay out finsync's production processes on one host (deploy/README.md): run as root from the repository
# checkout at /srv/finsync/app after `python3.11 -m venv .venv && .venv/bin/pip install .` there, with
# /etc/finsync/finsync.env filled in (finsync.env.example). Safe to run again: it changes only what differs.
set -euo pipefail

app=${FINSYNC_APP:-/srv/finsync/app}
env_file=/etc/finsync/finsync.env
units=(finsync-daemon finsync-viewer finsync-operator finsync-webhooks finsync-console finsync-alerts)

[[ -f $env_file ]] || { echo "error: $env_file is missing; copy deploy/finsync.env.example there and fill it in" >&2; exit 1; }
[[ "$(stat -c %a "$env_file")" == 600 ]] || { echo "error: $env_file holds secrets: chmod 600 it" >&2; exit 1; }
id finsync >/dev/null 2>&1 || useradd --system --home-dir /srv/finsync --shell /usr/sbin/nologin finsync

set -a; source "$env_file"; set +a
install -d -o finsync -g finsync -m 0750 "$FINSYNC_HOME" "$DAGSTER_HOME"
install -o finsync -g finsync -m 0640 "$app/deploy/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"

# Dagster's tables in PostgreSQL, then the ledger's (finsync status creates or migrates it).
runuser -u finsync -- env "HOME=/srv/finsync" "$app/.venv/bin/dagster" instance migrate
runuser -u finsync -- env "HOME=/srv/finsync" "$app/.venv/bin/finsync" status

install -m 0644 "$app"/deploy/systemd/*.service "$app"/deploy/systemd/*.timer /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now "${units[@]/%/.service}" finsync-retention.timer
systemctl --no-pager --lines=0 status "${units[@]/%/.service}" || true
echo "finsync is up on 127.0.0.1 (3000 viewer UI, 3001 operator UI, 8081 webhooks, 8082 console);"
echo "put deploy/proxy/nginx.conf (or the Caddyfile) and oauth2-proxy in front before opening any port."
