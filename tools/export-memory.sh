#!/usr/bin/env bash
# Measures export-serve's peak memory streaming a large bundle (issue 11; docs/performance.md):
# SKRYBA_EXPORT_MB megabytes (default 1024) of synthetic sealed recordings, exported to /dev/null,
# peak RSS from wait4, compared with `list` for the same request. Needs a built tree (swift build --build-tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
SKRYBA_EXPORT_MB=${SKRYBA_EXPORT_MB:-1024} swift test --skip-build --filter ExportMemoryTests 2>&1 | grep -E "export-memory:|passed|failed"
