#!/usr/bin/env bash
# Make a Python base image without a registry: debootstrap Debian bookworm with python3 into a
# folder and tar it, for `docker import`. The result plays the part of python:3.11-slim for
# the Dockerfile's BASE_IMAGE (python and pip on PATH, from a venv in /opt/venv) and of
# debian:bookworm-slim for docker/proxy.Dockerfile (apt-get works).
#
#   docker/make_base_image.sh OUT.tar        (root; needs debootstrap)
#   docker import --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
#       --change 'ENV LANG=C.UTF-8' --change 'CMD ["python"]' OUT.tar nextword-base:bookworm
#
# This machine reaches PyPI only through a TLS-intercepting proxy: the image gets the host's CA
# bundle as /etc/ssl/certs/host-ca-bundle.crt and an /etc/pip.conf that points pip at it
# (HOST_CA_BUNDLE, default /etc/ssl/certs/ca-certificates.crt; empty: neither is written).
# DEBIAN_MIRROR (default http://deb.debian.org/debian) is the apt source inside the image too.
# ~2 minutes; scripts/docker_smoke.sh keeps the tar in /var/cache/nextword/ and reuses it.
set -euo pipefail

out="${1:?usage: $0 OUT.tar}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ca_bundle="${HOST_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/nextword-rootfs.XXXXXX")
cleanup() {
    if mountpoint -q "$rootfs/proc"; then umount "$rootfs/proc"; fi
    rm -rf "$rootfs"
}
trap cleanup EXIT

echo "make_base_image: debootstrap bookworm into $rootfs from $mirror"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$mirror" >"$rootfs.debootstrap.log" 2>&1 || {
    tail -n 30 "$rootfs.debootstrap.log" >&2
    rm -f "$rootfs.debootstrap.log"
    exit 1
}
rm -f "$rootfs.debootstrap.log"

mount -t proc proc "$rootfs/proc"
# A venv, not Debian's python3 itself: Debian marks its Python externally managed (PEP 668),
# and the Dockerfile installs with plain `pip install`, as in the official image.
chroot "$rootfs" python3 -m venv /opt/venv
chroot "$rootfs" /opt/venv/bin/python -m pip --version
umount "$rootfs/proc"

if [ -n "$ca_bundle" ]; then
    cp "$ca_bundle" "$rootfs/etc/ssl/certs/host-ca-bundle.crt"
    printf '[global]\ncert = /etc/ssl/certs/host-ca-bundle.crt\n' >"$rootfs/etc/pip.conf"
fi
echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
# As in Debian's own container images: packages installed in a build never start their service
# (nginx's would bind port 80, on the host's network).
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
# The engine provides these at run time; the build machine's own do not belong in the image.
: >"$rootfs/etc/resolv.conf"
echo localhost >"$rootfs/etc/hostname"
# What a slim image leaves out: package lists, apt caches, docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

mkdir -p "$(dirname "$out")"
tar --numeric-owner -C "$rootfs" -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "make_base_image: wrote $out ($(du -h "$out" | cut -f1))"
