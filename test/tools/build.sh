#!/usr/bin/env bash
# Builds the manifest checkers users run on the synthesized stack (kube-score) from the Go
# modules pinned in go.mod, once per version, into a cache outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/perfpilot/tools-<sources hash>/
# Prints the cache directory on stdout. Set PERFPILOT_FORCE_BUILD=1 to rebuild.
# Polaris (github.com/fairwindsops/polaris) and kube-linter (golang.stackrox.io/kube-linter) are
# not served by the Go module proxy, so they are not built here.
set -euo pipefail
source "$(dirname "$0")/go-tool-cache.sh"
go_tool_cache kube-score tools PERFPILOT_TOOLS_DIR
kube_score="$(go list -m -f '{{.Version}}' github.com/zegl/kube-score)"
echo "perfpilot: building kube-score $kube_score into $dir (first time only: one to two minutes on 2 cores)" >&2
"${measure[@]}" go build -trimpath -ldflags "-s -w -X main.version=$kube_score" \
  -o "$tmp/kube-score" github.com/zegl/kube-score/cmd/kube-score >&2
go_tool_done 'manifest checkers'
