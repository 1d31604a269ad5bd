#!/usr/bin/env bash
# Installs everything vxnet needs on Debian 12: Debian packages, npm
# dependencies and the build. Idempotent: a second run changes nothing.
# Sourced by scripts/test.sh and scripts/demo.sh; can also be run alone.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

fail() { echo "vxnet setup: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs Debian packages and builds network namespaces); rerun with sudo."
command -v apt-get >/dev/null || fail "apt-get not found: vxnet's setup targets Debian 12."
command -v node >/dev/null || fail "node not found: install Node.js 20 or newer first."
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old: vxnet needs Node.js 20 or newer."
command -v npm >/dev/null || fail "npm not found: install npm alongside Node.js."

# Debian packages: the kernel data plane tools, the reference CNI plugins,
# etcd for high availability, and Chromium for the web page tests.
# python3, make and g++ build better-sqlite3 from source (node-gyp) when no
# prebuilt binary can be fetched; python3 also serves one store test.
# docker.io (dockerd 20.10), podman (4.3; without recommends it uses its CNI
# backend) and busybox-static (the test image's rootfs) run real container
# engines inside test hosts; openssl and ethtool serve tests and diagnostics.
# PID 1 is often not systemd: installing docker.io starts nothing by itself.
packages=(iproute2 nftables iptables etcd-server etcd-client containernetworking-plugins
          iputils-ping iperf3 chromium procps util-linux python3 make g++
          docker.io podman busybox-static openssl ethtool)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "vxnet setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq || fail "apt-get update failed: check that the Debian package repositories are reachable."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "could not install ${missing[*]}: see apt-get's output above."
fi
for bin in ip bridge nft /usr/lib/cni/bridge /usr/lib/cni/host-local etcd /usr/sbin/dockerd podman /bin/busybox nsenter unshare; do
  command -v "$bin" >/dev/null || [ -x "$bin" ] || fail "$bin is missing after installing packages."
done

# npm dependencies, reinstalled only when the lock file changed.
stamp=node_modules/.vxnet-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "vxnet setup: installing npm dependencies (better-sqlite3 compiles from source: about 90 s)"
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed: see npm's output above."
  cp package-lock.json "$stamp"
fi

npm run --silent build || fail "the TypeScript build failed: see the compiler's output above."
echo "vxnet setup: ready"
