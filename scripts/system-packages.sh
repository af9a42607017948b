#!/usr/bin/env bash
# Install the Debian packages the app (run) or the test suite (test) needs, if missing.
set -euo pipefail
what=${1:-run}
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$what" = "venv" ]; then
  # Debian's own Python needs python3-venv before it can create a virtual environment.
  packages=(python3-venv)
fi
if [ "$what" = "test" ]; then
  # pspp: the tests read the SPSS answer files back with PSPP as well as pyreadstat.
  # nginx, openssl: tests/test_deployment.py runs nginx with HTTPS in front of the app.
  packages+=(chromium poppler-utils postgresql pspp nginx openssl)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "Need root to install: ${missing[*]}. Run: apt-get install -y ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
