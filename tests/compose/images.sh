#!/usr/bin/env bash
# Builds the images the compose test runs, without a registry: a Debian
# bookworm base made by debootstrap and `docker import`, then stand-ins for
# the official images compose.yaml names (standins/*/Dockerfile: real
# PostgreSQL, Redis, nginx, AWS CLI from Debian's packages, and s3s-fs from
# crates.io for the S3 server), then the app image from infra/docker/Dockerfile.
#
# Each image is tagged with a hash of what it is built from, and skipped when
# `docker image inspect` finds that tag: on a machine that ran this before
# nothing is rebuilt (the engine's data root is under the CI cache). The
# debootstrap tarball and the s3s-fs binary are cached there too.
#
# Prints the image variables for compose.yaml (NAME=image), one a line, and
# BASE_IMAGE (what app-image.sh builds the app image on).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SPINSTACK_CI_CACHE:-/var/cache/spinstack-ci}"
mkdir -p "$cache/images"
# One builder at a time: .ci/run starts this script in the background at the
# beginning (debootstrap and the image builds wait mostly on the network and
# the disk, so they overlap the Rust build), and run.sh calls it again when the
# compose step starts; the second call waits here, then finds every image.
exec 9>"$cache/images/.lock"
flock 9

say() { echo "images: $*" >&2; }

# The tag of an image: a short hash of the files it is built from.
content_tag() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# 1. The base: Debian bookworm minbase, plus busybox (the wget the
#    official Alpine images' health checks use) and CA certificates.
#    The tag's revision changes with how the base is made (r2: its root
#    directory is 0755; r1's was mktemp's 0700, which no non-root user of
#    the stand-ins could traverse).
base="spinstack-ci/debian:bookworm-r2"
if ! image_exists "$base"; then
    tarball="$cache/images/debian-bookworm-minbase-r2.tar"
    if [ ! -s "$tarball" ]; then
        say "debootstrap bookworm (once per machine)"
        rootfs="$(mktemp -d)"
        chmod 0755 "$rootfs"
        debootstrap --variant=minbase --include=busybox,ca-certificates \
            bookworm "$rootfs" http://deb.debian.org/debian >"$cache/images/debootstrap.log" 2>&1 \
            || { tail -n 20 "$cache/images/debootstrap.log" >&2; exit 1; }
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    fi
    say "importing $base"
    docker import "$tarball" "$base" >/dev/null
fi
echo "BASE_IMAGE=$base"

# 2. s3s-fs, the S3 server of the storage stand-in (the same s3s version as
#    the host's embedded store), built once on the host.
s3s_version="$(awk '/^name = "s3s-fs"$/ { getline; gsub(/[^0-9.]/, ""); print }' "$root/Cargo.lock")"
s3s_bin="$cache/s3s-fs-$s3s_version/bin/s3s-fs"
if [ ! -x "$s3s_bin" ]; then
    say "cargo install s3s-fs $s3s_version (once per machine)"
    nice cargo install --quiet --locked s3s-fs --version "$s3s_version" --features binary \
        --root "$cache/s3s-fs-$s3s_version" --target-dir "$cache/s3s-fs-target"
fi
cp "$s3s_bin" "$here/standins/s3/s3s-fs"
trap 'rm -f "$here/standins/s3/s3s-fs"' EXIT

# 3. The stand-ins. Built with the host's network: apt inside the build
#    reaches Debian's mirror as the host does.
for name in postgres redis nginx s3 awscli; do
    # The base is part of what a stand-in is built from.
    image="spinstack-ci/$name:$( (content_tag "$here/standins/$name"; echo "$base") | sha256sum | cut -c1-12)"
    if ! image_exists "$image"; then
        say "building $image"
        docker build -q --network host --build-arg BASE="$base" -t "$image" "$here/standins/$name" \
            >"$cache/images/build-$name.log" 2>&1 || { tail -n 30 "$cache/images/build-$name.log" >&2; exit 1; }
    fi
    case "$name" in
        postgres) echo "POSTGRES_IMAGE=$image" ;;
        redis) echo "REDIS_IMAGE=$image" ;;
        nginx) echo "NGINX_IMAGE=$image" ;;
        s3) echo "STORAGE_IMAGE=$image" ;;
        awscli) echo "AWSCLI_IMAGE=$image" ;;
    esac
done
