#!/usr/bin/env bash
# Install wrk (the load generator: a C program, so it does not take the Python processes'
# cores) from Debian when it is missing. py-spy and psutil come from requirements-bench.txt.
set -euo pipefail

command -v wrk >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The benchmarks need wrk: sudo apt-get install -y wrk" >&2
  exit 1
fi
echo "Installing wrk (Debian package)..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends wrk >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
