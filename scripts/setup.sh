#!/usr/bin/env bash
# Makes this machine ready to run PerfPilot's tests, once; later runs only check.
#  1. Debian packages the tests run for real (redis-server, ...), via apt-get when root.
#  2. npm dependencies, including Node.js 24 from the npm registry's `node` package, which npm
#     scripts then find first on PATH (node_modules/.bin/node).
#  3. The test cluster (kube-apiserver, controllers, scheduler, kubectl, etcd, kwok,
#     prometheus-adapter) built from Go modules, cached
#     outside the repository (test/cluster/build.sh).
#  4. The manifest checkers the policy tests run (kube-score), built from their Go modules and
#     cached the same way (test/tools/build.sh).
# Used by `npm test` (pretest) and by .ci/run. Stops with the exact command to run when
# something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }
fail() {
  echo "setup: $1" >&2
  shift
  for line in "$@"; do echo "  $line" >&2; done
  exit 1
}

# 1. Debian packages: command -> package.
declare -A apt_for=([redis-server]=redis-server [redis-sentinel]=redis-sentinel [redis-cli]=redis-tools [curl]=curl [prometheus]=prometheus [pg_ctlcluster]=postgresql [prometheus-redis-exporter]=prometheus-redis-exporter)
missing=()
for cmd in "${!apt_for[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${apt_for[$cmd]}")
done
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    fail "missing Debian packages: ${missing[*]}" "install them: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system-wide redis on 6379; the tests start their own on free ports.

# 2. npm dependencies and Node.js 24.
command -v npm >/dev/null 2>&1 ||
  fail "missing npm (and Node.js)" "install them: sudo apt-get install -y nodejs npm"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
node24=node_modules/.bin/node
if [[ ! -x $node24 ]] || [[ $($node24 -p 'process.versions.node.split(".")[0]') -lt 24 ]]; then
  fail "Node.js 24 is missing from node_modules/.bin" "reinstall it: rm -rf node_modules && npm ci"
fi

# 3. The Go-built control plane.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
bin_dir=$(bash test/cluster/build.sh)

# 4. The Go-built manifest checkers.
tools_dir=$(bash test/tools/build.sh)
say "ready: node $($node24 --version), test cluster binaries in $bin_dir, manifest checkers in $tools_dir"
