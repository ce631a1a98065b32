#!/usr/bin/env bash
# Builds the Skryba appliance image: Debian 12 from its packages (mmdebstrap), Skryba's binaries,
# the accounts, services and hardening of docs/image.md; a read-only root and a data partition.
#
#   image/build-image.sh [--arch amd64|arm64] [--board rpi4|generic-arm64|qemu] [--bin DIR]
#                        [--out DIR] [--seed DIR] [--audio-usb-id VVVV:PPPP] [--data-size SIZE]
#                        [--mirror URL | --snapshot YYYYMMDDTHHMMSSZ] [--reuse-root]
#
# --bin: skrybad, skryba, skryba-tools for --arch, built with --static-swift-stdlib (default for
#   amd64: builds them into out/build; arm64: board/cross-build.sh's output).
# --seed: a directory copied onto the data partition (factory provisioning and the boot test):
#   ssh/authorized_keys/export, ssh/workstations.nft, config/skryba.toml, ...
# --reuse-root: keep the root filesystem tree of the last build in --out (its Debian packages) and
#   only install the binaries, overlay/ and the unit again: for working on the recipe, never for a release.
# Output in --out (default out/image-ARCH): disk.img (boot, root, data partitions), vmlinuz and
#   initrd.img (for QEMU's direct kernel boot), SHA256SUMS. Must run as root (mmdebstrap root mode,
#   file ownership on the partitions); never mounts anything on the host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

arch=amd64 board="" bin="" out="" seed="" usb_id="1397:0508" data_size=256M
reuse_root=0 mirror=http://deb.debian.org/debian security=http://deb.debian.org/debian-security snapshot=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --board) board=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --audio-usb-id) usb_id=$2; shift 2 ;;
    --data-size) data_size=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --snapshot) snapshot=$2; shift 2 ;;
    --reuse-root) reuse_root=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$arch" in amd64) board=${board:-qemu}; elf=X86-64; cpu=x86_64 ;;
                arm64) board=${board:-rpi4}; elf=AArch64; cpu=aarch64 ;;
                *) echo "build-image.sh: --arch is amd64 or arm64, not '$arch'" >&2; exit 2 ;; esac
case "$board" in qemu|rpi4|generic-arm64) ;; *) echo "build-image.sh: --board is rpi4, generic-arm64 or qemu, not '$board'" >&2; exit 2 ;; esac
[[ "$usb_id" =~ ^[0-9a-f]{4}:[0-9a-f]{4}$ ]] || { echo "build-image.sh: --audio-usb-id is VVVV:PPPP in lower-case hex (lsusb), not '$usb_id'" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-image.sh: run as root (file ownership on the partitions)" >&2; exit 2; }
for tool in mmdebstrap mkfs.ext4 mkfs.vfat mcopy sfdisk readelf; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: needs $tool (apt-get install mmdebstrap e2fsprogs dosfstools mtools fdisk binutils)" >&2; exit 2; }
done
out=${out:-$repo/out/image-$arch}
# Every timestamp in the image is this one: the last commit's, unless given.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}
if [ -n "$snapshot" ]; then
  mirror="http://snapshot.debian.org/archive/debian/$snapshot/"
  security="http://snapshot.debian.org/archive/debian-security/$snapshot/"
fi

# Swift 6.3's optimiser crashes in CopyPropagation on SkrybaPipeline (Scenario.parse, "Found
# ownership error"); without that one pass the release build succeeds (docs/image.md).
swift_release_workaround=(-Xswiftc -Xllvm -Xswiftc -sil-disable-pass=copy-propagation)
if [ -z "$bin" ]; then
  [ "$arch" = amd64 ] || { echo "build-image.sh: give --bin with the arm64 binaries (board/cross-build.sh)" >&2; exit 2; }
  bin=$repo/out/build/release
  (cd "$repo" && swift build -c release --static-swift-stdlib "${swift_release_workaround[@]}" --scratch-path out/build)
fi
for tool in skrybad skryba skryba-tools; do
  [ -x "$bin/$tool" ] || { echo "build-image.sh: $bin/$tool is missing" >&2; exit 2; }
  readelf -h "$bin/$tool" | grep -q "Machine:.*$elf" || { echo "build-image.sh: $bin/$tool is not an $arch binary" >&2; exit 2; }
  if readelf -d "$bin/$tool" | grep -q 'NEEDED.*libswift'; then
    echo "build-image.sh: $bin/$tool links the Swift runtime dynamically; build it with --static-swift-stdlib" >&2; exit 2
  fi
done

work=$out/work
root=$work/root data=$work/data boot=$work/boot
if [ "$reuse_root" = 1 ] && [ -f "$root/usr/bin/skrybad" ]; then
  rm -rf "$data" "$boot" && mkdir -p "$out"
else reuse_root=0; rm -rf "$work" && mkdir -p "$work" "$out"; fi

packages=(systemd-sysv udev dbus systemd-resolved netbase kmod iproute2 util-linux fdisk e2fsprogs sudo usbutils
          openssh-server nftables chrony sqlite3 alsa-utils gpiod tzdata fonts-dejavu-core
          libasound2 libgpiod2 libopus0 libsqlite3-0 libstdc++6
          initramfs-tools "linux-image-$arch")
components=main
watchdog_module=i6300esb
if [ "$arch" = arm64 ]; then
  components=main,non-free-firmware
  watchdog_module=bcm2835_wdt
  [ "$board" = rpi4 ] && packages+=(raspi-firmware)
fi

# 1. Debian 12 from packages. The hooks run in the new root (mmdebstrap mounts /proc, /dev there).
if [ "$reuse_root" = 1 ]; then
  install -m 0755 "$bin/skrybad" "$bin/skryba" "$bin/skryba-tools" "$root/usr/bin/"
  cp -r --no-preserve=ownership "$here/overlay/." "$root/"
  install -m 0644 "$here/skrybad.service" "$root/etc/systemd/system/skrybad.service"
  install -m 0644 "$here/skryba.toml.example" "$root/usr/share/skryba/skryba.toml.example"
else
mmdebstrap --variant=apt --arch="$arch" --components="$components" \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --setup-hook='mkdir -p "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook="echo $watchdog_module > \"\$1/usr/share/initramfs-tools/modules.d/skryba-watchdog.conf\"" \
  --customize-hook="\"$here/customize.sh\" \"\$1\" \"$bin\" \"$board\" \"$usb_id\"" \
  bookworm "$root" "deb $mirror bookworm $(echo "$components" | tr , ' ')" \
  "deb $mirror bookworm-updates $(echo "$components" | tr , ' ')" "deb $security bookworm-security main"
fi

# 2. The data partition's first contents (docs/image.md, "Partitions").
uid() { chroot "$root" id -u "$1"; }
gid() { chroot "$root" getent group "$1" | cut -d: -f3; }
install -d -m 0755 "$data"
install -d -m 0700 -o "$(uid skryba)" -g "$(gid skryba)" "$data/skryba"
install -d -m 0750 -o "$(uid technician)" -g "$(gid skryba)" "$data/config"
install -d -m 0755 "$data/ssh" "$data/ssh/authorized_keys"
install -d -m 0755 -o "$(uid _chrony)" -g "$(gid _chrony)" "$data/chrony"
cp -a "$root/var/lib/systemd" "$data/systemd"
if [ -n "$seed" ]; then
  cp -r --no-preserve=ownership "$seed/." "$data/"
  chown -R root:root "$data/ssh" && chmod -R go-w "$data/ssh"
  chown -R "$(uid technician):$(gid skryba)" "$data/config" && chmod -R o-rwx,g-w "$data/config"
fi

# 3. The boot partition: what the board's firmware or boot loader reads.
install -d "$boot"
cp "$root"/boot/vmlinuz-* "$boot/vmlinuz"; cp "$root"/boot/initrd.img-* "$boot/initrd.img"
cp "$boot/vmlinuz" "$boot/initrd.img" "$out/"
case "$board" in
  rpi4)
    cp -r "$root"/usr/lib/raspi-firmware/. "$boot/"
    cp "$root"/usr/lib/linux-image-*/broadcom/bcm2711-rpi-*.dtb "$boot/"
    cp "$repo/board/rpi4/config.txt" "$repo/board/rpi4/cmdline.txt" "$boot/" ;;
  generic-arm64)
    cp -r "$root"/usr/lib/linux-image-* "$boot/dtbs"
    install -d "$boot/extlinux"
    cp "$repo/board/generic-arm64/extlinux.conf" "$boot/extlinux/" ;;
  qemu) ;;  # QEMU loads vmlinuz and initrd.img itself (tools/boot-test.sh)
esac

# 4. Filesystems and the disk, with fixed identifiers and times (reproducible).
clamp() { find "$1" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"; }
clamp "$root"; clamp "$data"; clamp "$boot"
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
mib() { echo $(( ($1 + 1048575) / 1048576 )); }
root_mib=$(( $(mib "$(du -sb "$root" | cut -f1)") * 5 / 4 + 64 ))
boot_mib=256
data_mib=$(numfmt --from=iec "$data_size"); data_mib=$(mib "$data_mib")
mkfs.ext4 -q -F -L skryba-root -U 5c7b0a11-0000-4000-8000-000000000002 -E hash_seed=5c7b0a11-0000-4000-8000-000000000002,lazy_itable_init=0 \
  -d "$root" "$work/root.ext4" "${root_mib}M"
mkfs.ext4 -q -F -L skryba-data -U 5c7b0a11-0000-4000-8000-000000000003 -E hash_seed=5c7b0a11-0000-4000-8000-000000000003,lazy_itable_init=0 \
  -m 1 -d "$data" "$work/data.ext4" "${data_mib}M"
rm -f "$work/boot.vfat"
mkfs.vfat -n SKRYBA-BOOT -i 5c7b0a11 --invariant -C "$work/boot.vfat" $(( boot_mib * 1024 )) >/dev/null
mcopy -s -m -i "$work/boot.vfat" "$boot"/* ::/

disk=$out/disk.img
rm -f "$disk"
truncate -s $(( (1 + boot_mib + root_mib + data_mib) * 1048576 )) "$disk"
sfdisk --quiet "$disk" <<PARTS
label: dos
label-id: 0x5c7b0a11
unit: sectors
start=2048, size=$(( boot_mib * 2048 )), type=c, bootable
size=$(( root_mib * 2048 )), type=83
size=$(( data_mib * 2048 )), type=83
PARTS
dd if="$work/boot.vfat" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$disk" bs=1M seek=$(( 1 + boot_mib )) conv=notrunc,sparse status=none
dd if="$work/data.ext4" of="$disk" bs=1M seek=$(( 1 + boot_mib + root_mib )) conv=notrunc,sparse status=none
(cd "$out" && sha256sum disk.img vmlinuz initrd.img > SHA256SUMS)
rm -f "$work/boot.vfat" "$work/root.ext4" "$work/data.ext4"  # work/root stays for --reuse-root
echo "build-image.sh: $disk ($arch, $board): boot ${boot_mib} MiB, root ${root_mib} MiB (read-only), data ${data_mib} MiB"
