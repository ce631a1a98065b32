#!/usr/bin/env bash
# Assembles an arm64 Debian 12 root filesystem with Skryba installed. See image/README.md.
# Usage: image/build-rootfs.sh BIN_DIR ROOTFS_DIR   (BIN_DIR from board/cross-build.sh)
set -euo pipefail
bin=${1:?BIN_DIR with skrybad, skryba, skryba-tools}
rootfs=${2:?ROOTFS_DIR}
debootstrap --arch=arm64 \
  --include=systemd,systemd-sysv,libasound2,libgpiod2,libopus0,libsqlite3-0,openssh-server,chrony,alsa-utils,gpiod,tzdata \
  bookworm "$rootfs" http://deb.debian.org/debian
install -m 0755 "$bin/skrybad" "$bin/skryba" "$rootfs/usr/bin/"
install -d -m 0755 "$rootfs/etc/skryba"
install -m 0644 "$(dirname "$0")/skrybad.service" "$rootfs/etc/systemd/system/skrybad.service"
chroot "$rootfs" /bin/sh -c 'groupadd -f gpio; useradd --system --home /var/lib/skryba --groups audio,gpio skryba || true; systemctl enable skrybad.service'
echo "root filesystem ready in $rootfs"
