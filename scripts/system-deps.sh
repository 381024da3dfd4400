#!/usr/bin/env bash
# Installs the Debian packages the test suites drive as independent clients:
# chromium (browser tests), awscli (a second EC2 client) and openssl
# (verifies the sandbox's identity-document signature). Does nothing when
# they are already there.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v aws >/dev/null 2>&1 || need+=(awscli)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "sgsync tests need these Debian packages: ${need[*]}" >&2
  echo "Install them as root: apt-get update && apt-get install -y ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "sgsync tests need: ${need[*]} (no apt-get here; install them with your package manager)" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages used by the test suites)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
