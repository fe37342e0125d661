#!/usr/bin/env bash
# Builds helm, the tool users install the operator's chart with, from the Go module pinned in
# go.mod, once per version, into a cache outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/perfpilot/helm-<sources hash>/
# Prints the cache directory on stdout. Set PERFPILOT_FORCE_BUILD=1 to rebuild.
# helm v4 needs k8s.io modules newer than kube-score's (test/tools/go.mod), so it has a module of its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The cache key covers what the binary is built from, so a change to any of it rebuilds it.
sources=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-12)
dir="${PERFPILOT_HELM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perfpilot/helm-$sources}"
stamp="$dir/.complete"
if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "perfpilot: missing Go toolchain (needed once to build helm)." >&2
  echo "  install it: apt-get install -y golang-go   (or put /usr/local/go/bin on PATH)" >&2
  exit 1
fi
mkdir -p "$dir"
# One build at a time: parallel test workers wait for the first one's result.
exec 9>"$dir/.lock"
flock 9
if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
  echo "$dir"
  exit 0
fi
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$here"
helm_version="$(go list -m -f '{{.Version}}' helm.sh/helm/v4)"
echo "perfpilot: building helm $helm_version into $dir (first time only: a few minutes on 2 cores)" >&2
start=$(date +%s)
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
measure=()
[[ -x /usr/bin/time ]] && measure=(/usr/bin/time -f "perfpilot: %C: %e s, peak RSS %M KiB")
# helm reports its version from these variables (helm version, and the chart's kubeVersion checks).
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version"
"${measure[@]}" go build -trimpath -ldflags "$ldflags" -o "$tmp/helm" helm.sh/helm/v4/cmd/helm >&2
mv "$tmp"/* "$dir/"
echo "built in $(($(date +%s) - start)) s on $(nproc) cores" >"$stamp"
echo "perfpilot: helm built in $(($(date +%s) - start)) s" >&2
echo "$dir"
