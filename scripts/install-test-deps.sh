#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (real mail servers, crypto CLIs, browser).
# Idempotent: when everything is already installed it skips apt-get entirely (< 1 s).
# Usage (as root on Debian 12): bash scripts/install-test-deps.sh
set -euo pipefail

# dosfstools: mkfs.vfat, for the decryption onto a FAT image (test/cli/faults.test.ts).
# poppler-utils: pdftotext and pdftoppm read back the PDFs Pli writes (annex, register, reports).
PACKAGES=(postfix dovecot-imapd dovecot-lmtpd openssl age gnupg sqlite3 chromium fonts-dejavu-core dosfstools poppler-utils)
APT=(apt-get -o DPkg::Lock::Timeout=300)   # another apt run (CI image, other session) may hold the lock

step() { echo "[install-test-deps] $*"; }

# One dpkg-query call for all packages; a package counts as present only when fully installed.
missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  step "all ${#PACKAGES[@]} packages already installed, nothing to do"
  exit 0
fi
step "missing: ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
  echo "[install-test-deps] ERROR: must run as root to install: ${missing[*]}" >&2
  echo "[install-test-deps]        run: sudo bash scripts/install-test-deps.sh" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
step "preseeding postfix: 'No configuration' (the tests configure their own instance under a temp dir)"
printf '%s\n' "postfix postfix/main_mailer_type select No configuration" \
              "postfix postfix/mailname string localhost" | debconf-set-selections

# policy-rc.d exiting 101 stops postinst scripts from starting system postfix/dovecot daemons.
# Only created when absent; a file we create is removed again afterwards.
created_policy=0
if [ ! -x /usr/sbin/policy-rc.d ]; then
  step "installing temporary /usr/sbin/policy-rc.d (no daemon starts during install)"
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { [ "$created_policy" -eq 0 ] || rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT

step "apt-get update"
"${APT[@]}" update -qq
step "apt-get install ${missing[*]}"
"${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
step "done"
