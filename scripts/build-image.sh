#!/usr/bin/env bash
# Builds the project's image without Docker, as an OCI image layout:
#   a minimal Debian bookworm root (mmdebstrap, only the C and C++ runtime Node needs: no shell,
#   no package manager), Node.js from the npm `node` package this project already installs,
#   the app as the Dockerfile's final stage copies it (scripts/image-tree.ts reads its COPY lines,
#   ENV, WORKDIR, USER, EXPOSE, ENTRYPOINT and CMD), then umoci makes the image.
#
#   scripts/build-image.sh --out DIR [--tag TAG] [--mirror URL]
#
# DIR/oci is the image layout (`DIR/oci:TAG`), DIR/rootfs the root it was made from. Runs as root
# (mmdebstrap's root mode; umoci sets file owners); installs mmdebstrap and umoci with apt when
# missing. Prints the image's size and the build's time.
set -euo pipefail

out=""
tag=""
mirror="http://deb.debian.org/debian"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --tag) tag="$2"; shift 2 ;;
    --tag=*) tag="${1#--tag=}"; shift ;;
    --mirror) mirror="$2"; shift 2 ;;
    --mirror=*) mirror="${1#--mirror=}"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (--out DIR [--tag TAG] [--mirror URL])" >&2; exit 2 ;;
  esac
done
if [[ -z "$out" ]]; then
  echo "build-image: --out DIR is required" >&2
  exit 2
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "build-image: run as root (mmdebstrap's root mode and umoci's file owners need it)" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node="$root/node_modules/.bin/node"
started=$(date +%s)
step() { echo "build-image: $* ($(( $(date +%s) - started )) s)"; }

# The tools, from Debian, on demand: they are not needed by the tests or the release YAML.
missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v umoci >/dev/null || missing+=(umoci)
if [[ ${#missing[@]} -gt 0 ]]; then
  step "installing ${missing[*]} with apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

version="$("$node" -p "require('$root/package.json').version")"
tag="${tag:-$version}"
# The Dockerfile's base image pins the Node.js version; the npm `node` package must match it.
base_node="$(sed -n 's/^FROM node:\([0-9.]*\)-.*/\1/p' "$root/Dockerfile" | tail -1)"
have_node="$("$node" -p 'process.versions.node')"
if [[ "$base_node" != "$have_node" ]]; then
  echo "build-image: the Dockerfile's node:$base_node differs from node_modules' Node.js $have_node" >&2
  exit 1
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rootfs="$out/rootfs"
rm -rf "$rootfs" "$out/oci" "$out/deps"

step "bookworm root: libc6, libgcc-s1, libstdc++6 (mmdebstrap --variant=extract)"
# extract: unpack the packages and their dependencies, run no maintainer script; this pulls in
# no shell, no dpkg and no apt, which the image does not need at run time.
mmdebstrap --quiet --variant=extract --include=libc6,libgcc-s1,libstdc++6 bookworm "$rootfs" "$mirror"
# What a container runtime provides, and apt's state, stay out of the image; dpkg's status stays,
# so scanners can tell which Debian packages are inside.
rm -rf "$rootfs"/dev/* "$rootfs"/etc/apt "$rootfs"/var/lib/apt "$rootfs"/var/cache/apt "$rootfs"/var/log/apt \
  "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname "$rootfs"/etc/fstab
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
chmod 1777 "$rootfs/tmp"
# The image's user: numeric in the Dockerfile and the Pod's securityContext, named here for tools.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nperfpilot:x:10001:10001:perfpilot:/nonexistent:/usr/sbin/nologin\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nperfpilot:x:10001:\n' >"$rootfs/etc/group"

step "Node.js $have_node from the npm node package"
install -D -m 0755 "$root/node_modules/node/bin/node" "$rootfs/usr/local/bin/node"

step "the app: the Dockerfile's COPY lines from the build context"
app="$rootfs/app"
mkdir -p "$app"
"$node" "$root/scripts/image-tree.ts" copy-context "$app"

step "the app: production dependencies (npm ci --omit=dev, as the Dockerfile's deps stage)"
mkdir -p "$out/deps"
cp "$root/package.json" "$root/package-lock.json" "$out/deps/"
(cd "$out/deps" && PATH="$root/node_modules/.bin:$PATH" npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
mv "$out/deps/node_modules" "$app/node_modules"
rm -rf "$out/deps"

step "the app: the operator's bundle (as the Dockerfile's bundle stage)"
"$node" --input-type=module -e "
  const { buildOperatorBundle } = await import('$root/scripts/operator-bundle.ts');
  await buildOperatorBundle('$app/dist/operator.js');
"
chmod -R a+rX,go-w "$app"

step "checking /app against the Dockerfile's tree"
"$node" "$root/scripts/image-tree.ts" check "$app"

step "OCI image $out/oci:$tag (umoci)"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:$tag"
umoci insert --image "$out/oci:$tag" "$rootfs" /
config="$("$node" "$root/scripts/image-tree.ts" config)"
config_args=()
while IFS= read -r arg; do config_args+=("$arg"); done < <("$node" -e "
  const c = JSON.parse(process.argv[1]);
  const args = ['--config.workingdir=' + c.workdir, '--config.user=' + c.user, '--clear=config.env'];
  // Docker's default PATH, which the node base image keeps.
  args.push('--config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  for (const [k, v] of Object.entries(c.env)) args.push('--config.env=' + k + '=' + v);
  for (const p of c.exposedPorts) args.push('--config.exposedports=' + p);
  for (const e of c.entrypoint) args.push('--config.entrypoint=' + e);
  for (const e of c.cmd) args.push('--config.cmd=' + e);
  console.log(args.join('\n'));
" "$config")
umoci config --image "$out/oci:$tag" --os=linux --architecture=amd64 \
  --author="PerfPilot" --config.label="org.opencontainers.image.version=$version" "${config_args[@]}"
umoci gc --layout "$out/oci"

compressed=$(du -sb "$out/oci/blobs" | cut -f1)
unpacked=$(du -sb "$rootfs" | cut -f1)
step "done: $out/oci:$tag, $((compressed / 1024 / 1024)) MiB compressed, $((unpacked / 1024 / 1024)) MiB unpacked"
