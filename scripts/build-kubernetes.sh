#!/usr/bin/env bash
# Builds a real Kubernetes control plane for the tests, from Go modules, into the cache:
#   ${DR_CACHE_DIR:-.cache}/kubernetes-<version>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,etcd,kwok}
#   ${DR_CACHE_DIR:-.cache}/kubernetes-<version>/kwok-stages/   (kwok's own node and pod-delete stages)
# The recipe is stack/kubernetes/build/go.mod + go.sum; a stamp of it beside the binaries makes a second run a no-op.
#
#   scripts/build-kubernetes.sh          build, unless the stamp says this recipe is built already
#   scripts/build-kubernetes.sh --tidy   after changing a version in the recipe: resolve the module graph
#                                        again and write go.mod/go.sum back into stack/kubernetes/build/
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
recipe="$root/stack/kubernetes/build"
cache="${DR_CACHE_DIR:-$root/.cache}"
go_bin="${DR_GO_BIN:-go}"
tidy=""
[ "${1:-}" = "--tidy" ] && tidy=1

say()  { printf 'bootstrap: %s\n' "$*"; }
fail() { printf 'bootstrap: error: %s. Fix: %s\n' "$1" "$2" >&2; exit 1; }

command -v node >/dev/null 2>&1 || fail "node is not installed; the Kubernetes build reads Go's JSON with it" "install Node.js 20, then run this again"
# One JSON value on stdin, one JavaScript expression over it (`m`) that prints lines.
json() { node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8")); const out = ('"$1"'); if (out !== undefined) console.log([].concat(out).join("\n"));'; }

# Versions straight from the recipe, so that the no-op check needs no Go.
version_of() { awk -v m="$1" '$1 == m { print $2; exit }' "$recipe/go.mod"; }
k8s_version="$(version_of k8s.io/kubernetes)"
etcd_version="$(version_of go.etcd.io/etcd/server/v3)"
kwok_version="$(version_of sigs.k8s.io/kwok)"
dest="$cache/kubernetes-$k8s_version"
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)
stamp="kubernetes $k8s_version etcd $etcd_version kwok $kwok_version recipe $(cat "$recipe/go.mod" "$recipe/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"

built() {
  [ "$(cat "$dest/version" 2>/dev/null)" = "$stamp" ] || return 1
  for b in "${binaries[@]}"; do [ -x "$dest/bin/$b" ] || return 1; done
}
present() {
  if [ -z "$tidy" ] && built; then
    say "Kubernetes $k8s_version control plane present ($dest/bin: ${binaries[*]})"
    exit 0
  fi
}
present
# Several checkouts may share one cache: one build at a time, and whoever waited uses the other's.
if command -v flock >/dev/null 2>&1; then
  mkdir -p "$cache"
  exec 9>"$cache/kubernetes-$k8s_version.lock"
  flock -n 9 || { say "another bootstrap is building Kubernetes $k8s_version into $dest; waiting for it"; flock 9; }
  present
fi

command -v "$go_bin" >/dev/null 2>&1 || fail "go is not installed; it is needed once to build the Kubernetes control plane for the tests" \
  "install Go >= $(version_of go) (https://go.dev/doc/install or your package manager), then run this again"
go_version="$("$go_bin" env GOVERSION)"
need_go="$(version_of go)"
if ! printf '%s\n%s\n' "go$need_go" "$go_version" | sort -V -C; then
  fail "$go_version is too old to build Kubernetes $k8s_version (its go.mod needs go $need_go)" "install Go >= $need_go (https://go.dev/doc/install), then run this again"
fi

say "building Kubernetes $k8s_version control plane (kube-apiserver, kube-controller-manager, kube-scheduler), etcd $etcd_version and kwok $kwok_version from Go modules into $dest (cold: about 10 minutes and 3 GB of RAM; with a warm Go build cache: seconds)"
started=$SECONDS
mkdir -p "$dest"
work="$dest/module"
rm -rf "$work" "$dest/bin.new" "$dest/kwok-stages.new"
mkdir -p "$work"
cp "$recipe/go.mod" "$recipe/go.sum" "$work/"
cd "$work"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0

# The replace block: every module k8s.io/kubernetes replaces with a ./staging folder is published on its
# own as v0.<minor>.<patch> of the same release (k8s.io/api v0.37.2 for Kubernetes v1.37.2).
k8s_gomod="$(cd / && "$go_bin" mod download -json "k8s.io/kubernetes@$k8s_version" | json 'm.Error ? (console.error(m.Error), process.exit(1)) : m.GoMod')" \
  || fail "could not download k8s.io/kubernetes@$k8s_version" "check that the Go module proxy is reachable (go env GOPROXY), then run this again"
staging_version="v0.${k8s_version#v1.}"
mapfile -t replaces < <("$go_bin" mod edit -json "$k8s_gomod" | json "(m.Replace || []).map((r) => {
  if (r.New.Path.startsWith('./staging/')) return '-replace=' + r.Old.Path + '=' + r.Old.Path + '@$staging_version';
  if (r.New.Version) return '-replace=' + r.Old.Path + (r.Old.Version ? '@' + r.Old.Version : '') + '=' + r.New.Path + '@' + r.New.Version;
  console.error('unexpected local replace in k8s.io/kubernetes go.mod: ' + r.Old.Path + ' => ' + r.New.Path); process.exit(1);
})")
[ "${#replaces[@]}" -gt 0 ] || fail "found no staging modules in the go.mod of k8s.io/kubernetes@$k8s_version" "check the version in stack/kubernetes/build/go.mod"
"$go_bin" mod edit "${replaces[@]}" go.mod

if [ -n "$tidy" ]; then
  say "go mod tidy over ${#replaces[@]} derived replaces"
  "$go_bin" mod tidy
  cp go.sum "$recipe/go.sum"
  # The replace block stays derived: what goes back into the recipe has none.
  mapfile -t drops < <("$go_bin" mod edit -json go.mod | json "(m.Replace || []).map((r) => '-dropreplace=' + r.Old.Path)")
  "$go_bin" mod edit "${drops[@]}" go.mod
  cp go.mod "$recipe/go.mod"
  say "wrote $recipe/go.mod and go.sum; run this again without --tidy to build"
  rm -rf "$work"
  exit 0
fi

# Without the version ldflags the servers call themselves v0.0.0-master+$Format:%H$, which kubectl-style
# clients cannot parse. -s -w and -trimpath: smaller binaries, less to link, no machine paths inside;
# -buildvcs=false: the work folder may sit inside a git checkout (.cache/), which says nothing about these.
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
version_pkg="k8s.io/component-base/version"
ldflags="-s -w -X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean -X $version_pkg.gitCommit="
mkdir -p "$dest/bin.new"
"$go_bin" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$dest/bin.new/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
  go.etcd.io/etcd/server/v3 sigs.k8s.io/kwok/cmd/kwok \
  || fail "go build of the Kubernetes control plane failed (see the lines above)" "check that Go >= $need_go is installed, the Go module proxy is reachable and there are 3 GB of free memory, then run this again"
mv "$dest/bin.new/server" "$dest/bin.new/etcd"   # the etcd server's main package is go.etcd.io/etcd/server/v3

# kwok's own stages for nodes (become Ready, keep a lease) and for deleting pods; pod readiness is ours
# (stack/kubernetes/kwok-stages/), so that a test can make one Deployment slow or never ready.
kwok_dir="$("$go_bin" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
mkdir -p "$dest/kwok-stages.new"
cp "$kwok_dir/kustomize/stage/node/fast/node-initialize.yaml" "$kwok_dir/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
  "$kwok_dir/kustomize/stage/pod/fast/pod-delete.yaml" "$dest/kwok-stages.new/"
chmod -R u+w "$dest/kwok-stages.new"   # the module cache is read-only

rm -rf "$dest/bin" "$dest/kwok-stages" "$work"
mv "$dest/bin.new" "$dest/bin"
mv "$dest/kwok-stages.new" "$dest/kwok-stages"
echo "$stamp" > "$dest/version"
say "built Kubernetes $k8s_version control plane in $((SECONDS - started)) s ($(du -sh "$dest/bin" | cut -f1) of binaries in $dest/bin)"
