#!/usr/bin/env bash
# mmdebstrap customize hook of image/build-image.sh: Skryba, accounts, services, read-only root.
# Usage: customize.sh ROOT BIN_DIR BOARD USB_ID
set -euo pipefail
root=$1 bin=$2 board=$3 usb_id=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
in_root() { chroot "$root" "$@"; }

# Skryba
install -m 0755 "$bin/skrybad" "$bin/skryba" "$bin/skryba-tools" "$root/usr/bin/"
install -d -m 0755 "$root/usr/share/skryba"
install -m 0644 "$here/skryba.toml.example" "$root/usr/share/skryba/skryba.toml.example"
install -m 0644 "$repo/board/rpi4/gpio.toml" "$root/usr/share/skryba/gpio-rpi4.toml"
install -m 0644 "$repo/board/generic-arm64/gpio.toml" "$root/usr/share/skryba/gpio-generic-arm64.toml"
install -m 0644 "$here/skrybad.service" "$root/etc/systemd/system/skrybad.service"
cp -r --no-preserve=ownership "$here/overlay/." "$root/"
chmod 0440 "$root/etc/sudoers.d/skryba-technician" "$root/etc/sudoers.d/skryba-export"

# The USB tap by its USB id (board/common).
vendor=${usb_id%:*} product=${usb_id#*:}
for file in 60-skryba.rules:etc/udev/rules.d skryba-audio.conf:etc/modprobe.d asound.conf:etc; do
  sed -e "s/@VENDOR@/$vendor/g" -e "s/@PRODUCT@/$product/g" "$repo/board/common/${file%%:*}" \
    > "$root/${file#*:}/${file%%:*}"
done

# Accounts (the technician is in group skryba for the control socket, docs/control-socket.md). Nobody
# has a password: the technician is logged in on the serial console only, the
# export account by key only, root never.
in_root groupadd --system gpio
in_root useradd --system --user-group --home-dir /var/lib/skryba --no-create-home --shell /usr/sbin/nologin \
  --groups audio,gpio skryba
echo /usr/lib/skryba/console-shell >> "$root/etc/shells"
in_root useradd --create-home --shell /usr/lib/skryba/console-shell --groups audio,gpio,systemd-journal,skryba technician
# The export account's shell must run the forced command (sshd runs it with `shell -c`).
in_root useradd --create-home --shell /bin/sh export
for account in root technician export; do in_root usermod -p '*' "$account"; done

# Partitions (docs/image.md): root read-only, the data partition holds everything that changes.
cat > "$root/etc/fstab" <<'FSTAB'
# The root filesystem is read-only; all state is on the data partition (docs/image.md).
LABEL=skryba-root   /               ext4   ro,noatime                        0 1
LABEL=SKRYBA-BOOT   /boot/firmware  vfat   ro,noatime,nofail,umask=0022      0 2
LABEL=skryba-data   /data           ext4   noatime,nodev,nosuid,noexec       0 2
/data/skryba        /var/lib/skryba none   bind                              0 0
/data/config        /etc/skryba     none   bind                              0 0
/data/chrony        /var/lib/chrony none   bind                              0 0
/data/systemd       /var/lib/systemd none  bind                              0 0
tmpfs               /tmp            tmpfs  nosuid,nodev,size=64M,mode=1777   0 0
tmpfs               /var/tmp        tmpfs  nosuid,nodev,size=16M,mode=1777   0 0
tmpfs               /var/log        tmpfs  nosuid,nodev,noexec,size=16M,mode=0755 0 0
FSTAB
install -d -m 0755 "$root/data" "$root/boot/firmware" "$root/etc/skryba" "$root/var/lib/skryba"
# systemd makes a transient machine id on a read-only root when the file is empty.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo skryba > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tskryba\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"

# Services.
in_root systemctl enable skrybad.service skryba-firstboot.service skryba-grow-data.service nftables.service systemd-networkd.service
in_root systemctl disable apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer 2>/dev/null || true
in_root systemctl mask getty@tty1.service autovt@.service
# Host keys are made on each appliance's first boot (skryba-firstboot), never shipped.
rm -f "$root"/etc/ssh/ssh_host_*

# Nothing of the build in the image.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/var/cache/ldconfig/aux-cache
