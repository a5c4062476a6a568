#!/usr/bin/env bash
# Installs the system packages Atoll's tests and local stack use, when they are missing:
# etcd (the datastore), the reference CNI plugins (bridge, ptp) from Debian, openssl
# (throwaway certificates for the TLS tests, tools/pki), and containerd with runc and a
# static busybox (pods through a real CRI, tools/cri), and iptables (node agents masquerade
# natOutgoing pools inside the test nodes' namespaces), and libfaketime (an allocator whose
# wall clock jumps, apps/allocator/test/gc-clock-jump-process.test.ts).
set -euo pipefail

missing=()
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || missing+=(etcd-server etcd-client)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing system packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
