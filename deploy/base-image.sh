#!/bin/sh
# The image's base, built from scratch where no container registry is reachable: a minimal Debian
# rootfs (debootstrap, minbase) with python3, imported into podman as $BASE. Skipped when $BASE exists.
# Needs root, debootstrap and podman (Debian: apt-get install debootstrap podman buildah).
set -eu
BASE=${BASE:-localhost/oneapi-mcp-base:bookworm}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
if podman image exists "$BASE"; then
    echo "base image $BASE exists"
    exit 0
fi
ROOTFS=$(mktemp -d)
trap 'rm -rf "$ROOTFS"' EXIT
# python3-venv builds the virtualenv in the build stage; ca-certificates lets the server reach OneAPI over TLS.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$SUITE" "$ROOTFS" "$MIRROR"
# Nothing at run time reads docs, man pages or translations (~50 MB); apt's caches are rebuilt by apt-get update.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/*
tar -C "$ROOTFS" -c . | podman import --change 'CMD ["/bin/sh"]' - "$BASE"
echo "base image $BASE imported"
