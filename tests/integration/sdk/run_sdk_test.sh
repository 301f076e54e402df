#!/bin/sh
# Installs the pinned MCP SDK when node_modules is missing, then runs the
# SDK client test. Exits 77 (skipped) when Node.js or npm is not installed
# or the test cannot create sandboxes without root.
set -eu

cd "$(dirname "$0")"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the SDK test creates sandboxes and needs root"
  exit 77
fi

if [ ! -f node_modules/@modelcontextprotocol/sdk/package.json ]; then
  npm install --no-audit --no-fund
fi

exec node sdk_test.mjs
