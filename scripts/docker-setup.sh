#!/usr/bin/env bash
# Makes a Docker engine and Compose v2 usable on a machine of this project's
# kind (Debian bookworm, root, no systemd, no container registry), once:
# every step checks first and does nothing when its result is already there.
#
# - Engine: Debian's docker.io (20.10), dockerd started by hand. Its data
#   root is under the CI cache so images outlive the clone. The storage
#   driver is vfs (no overlay mounts in this sandbox), and default ulimits
#   are set because the process may not raise its own: runc fails otherwise.
# - Compose v2: bookworm has only v1; trixie's docker-compose (2.26) is a
#   static Go binary that installs alone, from a trixie source pinned so that
#   apt takes nothing else from it.
#
# Then tests/compose/images.sh builds the images the compose test needs.
set -euo pipefail

cache="${SPINSTACK_CI_CACHE:-/var/cache/spinstack-ci}"
log="$cache/dockerd.log"
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
    apt-get install -y -qq --no-install-recommends "$@"
}

echo "docker-setup: engine packages"
missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

echo "docker-setup: compose v2"
if ! docker compose version >/dev/null 2>&1; then
    cat >/etc/apt/sources.list.d/spinstack-trixie.sources <<'EOF'
# Only for docker-compose (Compose v2); see /etc/apt/preferences.d/spinstack-trixie.
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # Everything from trixie is never installed (-1), except docker-compose.
    cat >/etc/apt/preferences.d/spinstack-trixie <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: -1

Package: docker-compose
Pin: release n=trixie
Pin-Priority: 990
EOF
    apt_updated=0
    apt_install docker-compose
    docker compose version >/dev/null 2>&1 || {
        echo "docker-setup: docker compose still missing after installing trixie's docker-compose" >&2
        exit 1
    }
fi

echo "docker-setup: engine"
if ! docker info >/dev/null 2>&1; then
    mkdir -p /etc/docker "$cache/docker"
    cat >/etc/docker/daemon.json <<EOF
{
  "data-root": "$cache/docker",
  "storage-driver": "vfs",
  "default-ulimits": {
    "nofile": { "Name": "nofile", "Soft": 20000, "Hard": 20000 },
    "nproc": { "Name": "nproc", "Soft": 4096, "Hard": 4096 }
  }
}
EOF
    # setsid: the engine outlives this script (later CI steps reuse it).
    setsid dockerd >>"$log" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || {
        echo "docker-setup: dockerd did not start; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    }
fi
docker version --format 'docker-setup: engine {{.Server.Version}}, client {{.Client.Version}}'
docker compose version
