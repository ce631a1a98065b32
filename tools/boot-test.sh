#!/usr/bin/env bash
# Boot test of the appliance image (docs/image.md, "Boot test"): builds the amd64 image with a test
# seed (an export key, this host as the one workstation), boots it twice under qemu-system-x86_64
# and checks over the emulated serial port and SSH what a technician and IT would see.
#
#   tools/boot-test.sh [--image DIR] [--kvm] [--keep] [-- BUILD-IMAGE-OPTIONS]
#
# --image DIR: an image built before by this script (DIR/disk.img, vmlinuz, initrd.img).
# Software emulation (TCG) by default; --kvm tries KVM first (nested KVM in the development
# container hangs the guest after the BIOS). --keep: keep the booted disk in out/boot-test.
# Needs root (the image build), qemu-system-x86, python3-pexpect, openssh-client.
set -euo pipefail
cd "$(dirname "$0")/.."
image="" accel=tcg keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=$2; shift 2 ;;
    --kvm) accel=kvm; shift ;;
    --keep) keep=1; shift ;;
    --) shift; break ;;
    *) echo "boot-test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
work=$PWD/out/boot-test
start=$(date +%s)
mkdir -p "$work"
if [ -z "$image" ]; then
  rm -rf "$work/seed" "$work/client_key" "$work/client_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C boot-test -f "$work/client_key"
  mkdir -p "$work/seed/ssh/authorized_keys"
  printf 'restrict,command="/usr/bin/skryba export-serve" %s\n' "$(cat "$work/client_key.pub")" \
    > "$work/seed/ssh/authorized_keys/export"
  # QEMU's user network shows every connection from the host as 10.0.2.2.
  echo 'add element inet skryba workstations4 { 10.0.2.2 }' > "$work/seed/ssh/workstations.nft"
  image/build-image.sh --arch amd64 --out "$work/image" --seed "$work/seed" "$@"
  image=$work/image
fi
built=$(date +%s)
cp --sparse=always "$image/disk.img" "$work/disk.img"
status=0
python3 tools/boot-test.py --work "$work" --kernel "$image/vmlinuz" --initrd "$image/initrd.img" --accel "$accel" || status=$?
end=$(date +%s)
echo "boot-test: image build $((built - start)) s, two boots and checks $((end - built)) s, accelerator $accel"
[ "$keep" = 1 ] || rm -f "$work/disk.img"
exit $status
