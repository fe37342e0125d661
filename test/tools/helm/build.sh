#!/usr/bin/env bash
# Builds helm, the tool users install the operator's chart with, from the Go module pinned in
# go.mod, once per version, into a cache outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/perfpilot/helm-<sources hash>/
# Prints the cache directory on stdout. Set PERFPILOT_FORCE_BUILD=1 to rebuild.
# helm v4 needs k8s.io modules newer than kube-score's (test/tools/go.mod), so it has a module of its own.
set -euo pipefail
source "$(dirname "$0")/../go-tool-cache.sh"
go_tool_cache helm helm PERFPILOT_HELM_DIR
helm_version="$(go list -m -f '{{.Version}}' helm.sh/helm/v4)"
echo "perfpilot: building helm $helm_version into $dir (first time only: a few minutes on 2 cores)" >&2
# helm reports its version from these variables (helm version, and the chart's kubeVersion checks).
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version"
"${measure[@]}" go build -trimpath -ldflags "$ldflags" -o "$tmp/helm" helm.sh/helm/v4/cmd/helm >&2
go_tool_done helm
