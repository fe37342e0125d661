# Sourced by the build scripts of the Go-built test tools (test/tools/build.sh,
# test/tools/helm/build.sh): one way to cache a tool built from a pinned Go module.
#   go_tool_cache NAME CACHE_PREFIX DIR_OVERRIDE
# NAME names the tool in messages; the cache is ${XDG_CACHE_HOME:-~/.cache}/perfpilot/<CACHE_PREFIX>-<hash>/
# unless the variable named DIR_OVERRIDE is set. The hash covers the module directory's go.mod,
# go.sum and build.sh, and this file, so a change to any of them rebuilds the tool.
# When the cache is complete it prints the directory and exits the calling script. Otherwise it
# sets $dir, $stamp and $tmp (a build directory removed on exit), holds the cache's lock (one build
# at a time: parallel test workers wait for the first one's result) and cds into the module
# directory; the caller builds into $tmp and calls go_tool_done.
go_tool_cache() {
  local name=$1 prefix=$2 override=$3
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
  local sources
  sources=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
  dir="${!override:-${XDG_CACHE_HOME:-$HOME/.cache}/perfpilot/$prefix-$sources}"
  stamp="$dir/.complete"
  if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
    echo "$dir"
    exit 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "perfpilot: missing Go toolchain (needed once to build $name)." >&2
    echo "  install it: apt-get install -y golang-go   (or put /usr/local/go/bin on PATH)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
    echo "$dir"
    exit 0
  fi
  tmp="$(mktemp -d "$dir/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cd "$here"
  go_tool_start=$(date +%s)
  export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
  measure=()
  [[ -x /usr/bin/time ]] && measure=(/usr/bin/time -f "perfpilot: %C: %e s, peak RSS %M KiB")
  return 0
}

# go_tool_done moves the built files into the cache, stamps it and prints its directory.
go_tool_done() {
  local what=$1
  mv "$tmp"/* "$dir/"
  echo "built in $(($(date +%s) - go_tool_start)) s on $(nproc) cores" >"$stamp"
  echo "perfpilot: $what built in $(($(date +%s) - go_tool_start)) s" >&2
  echo "$dir"
}
