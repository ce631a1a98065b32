#!/usr/bin/env bash
# Cross-builds Skryba for aarch64 Debian 12 from an x86_64 host. See board/README.md.
# Usage: board/cross-build.sh --swift-aarch64 swift-6.x-RELEASE-debian12-aarch64.tar.gz [--work DIR]
# Output: DIR/bin/{skrybad,skryba,skryba-tools} for aarch64, with the Swift standard library linked
# statically, ready for image/build-image.sh --arch arm64 --bin DIR/bin.
# NOT RUN in the development container (no aarch64 toolchain there); see docs/board.md.
set -euo pipefail
cd "$(dirname "$0")/.."

tarball="" work=".build-cross"
while [ $# -gt 0 ]; do
  case "$1" in
    --swift-aarch64) tarball="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$tarball" ] || { echo "need --swift-aarch64 TARBALL (the aarch64 Debian 12 toolchain from swift.org)" >&2; exit 2; }
command -v mmdebstrap >/dev/null || { echo "apt-get install mmdebstrap lld" >&2; exit 2; }

sysroot="$work/sysroot"
bundle="$work/aarch64-debian12-skryba.artifactbundle"
sdk="$bundle/aarch64-debian12-skryba/aarch64-unknown-linux-gnu"

# 1. An arm64 Debian 12 sysroot with the C libraries' headers and shared objects.
if [ ! -f "$sysroot/.done" ]; then
  mkdir -p "$sysroot"
  # extract only: no arm64 code runs on the host, so no qemu-user-static is needed.
  mmdebstrap --variant=extract --arch=arm64 \
    --include=libc6-dev,libstdc++-12-dev,libgcc-12-dev,libasound2-dev,libgpiod-dev,libopus-dev,libsqlite3-dev,linux-libc-dev \
    bookworm "$sysroot" http://deb.debian.org/debian
  # Debian's absolute symlinks (libfoo.so -> /lib/...) must point inside the sysroot.
  find "$sysroot" -type l -lname '/*' | while read -r link; do
    ln -sfn "$sysroot$(readlink "$link")" "$link"
  done
  touch "$sysroot/.done"
fi

# 2. The target's Swift runtime and resource directory, from the aarch64 toolchain.
mkdir -p "$sdk"
tar -xzf "$tarball" -C "$work" --wildcards '*/usr/lib/swift/*' '*/usr/lib/swift_static/*'
toolchain=$(find "$work" -maxdepth 1 -type d -name 'swift-*aarch64*' | head -1)
rm -rf "$sdk/sysroot" && cp -a "$sysroot" "$sdk/sysroot"
cp -a "$toolchain/usr/lib/swift" "$sdk/sysroot/usr/lib/"
cp -a "$toolchain/usr/lib/swift_static" "$sdk/sysroot/usr/lib/"

# 3. The SDK bundle description.
cat > "$bundle/info.json" <<JSON
{ "schemaVersion": "1.0", "artifacts": { "aarch64-debian12-skryba": { "type": "swiftSDK", "version": "1",
  "variants": [ { "path": "aarch64-debian12-skryba/aarch64-unknown-linux-gnu",
                  "supportedTriples": ["x86_64-unknown-linux-gnu"] } ] } } }
JSON
cat > "$sdk/swift-sdk.json" <<JSON
{ "schemaVersion": "4.0", "targetTriples": { "aarch64-unknown-linux-gnu": {
  "sdkRootPath": "sysroot", "swiftResourcesPath": "sysroot/usr/lib/swift",
  "swiftStaticResourcesPath": "sysroot/usr/lib/swift_static", "toolsetPaths": ["toolset.json"] } } }
JSON
cat > "$sdk/toolset.json" <<JSON
{ "schemaVersion": "1.0", "rootPath": "$(dirname "$(command -v swift)")",
  "linker": { "path": "ld.lld" },
  "cCompiler": { "extraCLIOptions": ["-fuse-ld=lld"] },
  "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] } }
JSON
swift sdk remove aarch64-debian12-skryba >/dev/null 2>&1 || true
swift sdk install "$bundle"

# 4. Build. pkg-config must look in the sysroot, not the host.
export PKG_CONFIG_SYSROOT_DIR="$PWD/$sdk/sysroot"
export PKG_CONFIG_LIBDIR="$PWD/$sdk/sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$PWD/$sdk/sysroot/usr/share/pkgconfig"
for product in skrybad skryba skryba-tools; do
  # -sil-disable-pass: Swift 6.3's CopyPropagation crashes on SkrybaPipeline (docs/image.md).
  swift build -c release --static-swift-stdlib -Xswiftc -Xllvm -Xswiftc -sil-disable-pass=copy-propagation --swift-sdk aarch64-debian12-skryba --scratch-path "$work/build" --product "$product"
done
mkdir -p "$work/bin"
cp "$work/build/release/skrybad" "$work/build/release/skryba" "$work/build/release/skryba-tools" "$work/bin/"
file "$work/bin/skrybad"
echo "next: image/build-image.sh --arch arm64 --board rpi4 --bin $work/bin"
