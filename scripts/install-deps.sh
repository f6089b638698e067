#!/usr/bin/env bash
# Install what ft and its tests need on Debian: Chromium and its chromedriver.
# Idempotent: does nothing when both are already there.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: chromium and chromedriver are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root or install sudo, then: apt-get install -y ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
command -v apt-get >/dev/null 2>&1 || { echo "install-deps: no apt-get here; install ${need[*]} with your package manager" >&2; exit 1; }

echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
chromium --version
chromedriver --version
