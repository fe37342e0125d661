#!/usr/bin/env bash
# Builds the manifest checkers users run on the synthesized stack (kube-score) from the Go
# modules pinned in go.mod, once per version, into a cache outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/perfpilot/tools-<sources hash>/
# Prints the cache directory on stdout. Set PERFPILOT_FORCE_BUILD=1 to rebuild.
# Polaris (github.com/fairwindsops/polaris) and kube-linter (golang.stackrox.io/kube-linter) are
# not served by the Go module proxy, so they are not built here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The cache key covers what the binaries are built from, so a change to any of it rebuilds them.
sources=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-12)
dir="${PERFPILOT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perfpilot/tools-$sources}"
stamp="$dir/.complete"
if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "perfpilot: missing Go toolchain (needed once to build kube-score)." >&2
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
kube_score="$(go list -m -f '{{.Version}}' github.com/zegl/kube-score)"
echo "perfpilot: building kube-score $kube_score into $dir (first time only: one to two minutes on 2 cores)" >&2
start=$(date +%s)
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
measure=()
[[ -x /usr/bin/time ]] && measure=(/usr/bin/time -f "perfpilot: %C: %e s, peak RSS %M KiB")
"${measure[@]}" go build -trimpath -ldflags "-s -w -X main.version=$kube_score" \
  -o "$tmp/kube-score" github.com/zegl/kube-score/cmd/kube-score >&2
mv "$tmp"/* "$dir/"
echo "built in $(($(date +%s) - start)) s on $(nproc) cores" >"$stamp"
echo "perfpilot: manifest checkers built in $(($(date +%s) - start)) s" >&2
echo "$dir"
