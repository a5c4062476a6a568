#!/usr/bin/env bash
# Makes the certificates an Atoll installation needs, with the openssl command line, into a
# directory of your choice; deploy/README.md then turns them into the five Secrets.
#
#   deploy/tls/make-certs.sh OUT_DIR [KUBE_CLIENT_CA]
#
# KUBE_CLIENT_CA: the CA file that signs your kubelets' client certificates (the node agents
# present them); it is added to the CAs the allocator accepts client certificates from.
# Without it the allocator accepts only Atoll's own CA, and refuses the node agents.
#
# Two separate CAs, so that nothing the Atoll CA signs can reach etcd:
#   atoll-ca  signs the allocator's server certificate and atollctl's admin certificate;
#   etcd-ca   signs the etcd members' certificate and the allocator's etcd client certificate.
# Keys are ECDSA P-256. Environment: ATOLL_NAMESPACE (default atoll-system), ATOLL_CERT_DAYS
# (default 365), ATOLL_CA_DAYS (default 3650). Existing files in OUT_DIR are overwritten.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 OUT_DIR [KUBE_CLIENT_CA]" >&2
  exit 2
fi
out=$1
kube_client_ca=${2:-}
ns=${ATOLL_NAMESPACE:-atoll-system}
days=${ATOLL_CERT_DAYS:-365}
ca_days=${ATOLL_CA_DAYS:-3650}

if [[ -n $kube_client_ca && ! -s $kube_client_ca ]]; then
  echo "$0: $kube_client_ca is missing or empty" >&2
  exit 2
fi
if [[ -n $kube_client_ca ]]; then kube_client_ca=$(cd "$(dirname "$kube_client_ca")" && pwd)/$(basename "$kube_client_ca"); fi

umask 077
mkdir -p "$out"
cd "$out"

new_key_and_csr() { # NAME SUBJECT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
}

make_ca() { # NAME SUBJECT
  new_key_and_csr "$1" "$2"
  printf '%s\n' 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
    'subjectKeyIdentifier=hash' >"$1.ext"
  openssl x509 -req -in "$1.csr" -signkey "$1.key" -days "$ca_days" -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_cert() { # NAME CA SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
  new_key_and_csr "$1" "$3"
  {
    echo 'basicConstraints=critical,CA:FALSE'
    echo 'keyUsage=critical,digitalSignature'
    echo "extendedKeyUsage=$4"
    echo 'subjectKeyIdentifier=hash'
    echo 'authorityKeyIdentifier=keyid'
    if [[ -n ${5:-} ]]; then echo "subjectAltName=$5"; fi
  } >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_ca atoll-ca '/O=atoll/CN=Atoll CA'
make_ca etcd-ca '/O=atoll/CN=Atoll etcd CA'

members=()
for i in 0 1 2; do
  members+=("DNS:atoll-etcd-$i.atoll-etcd.$ns.svc" "DNS:atoll-etcd-$i.atoll-etcd.$ns.svc.cluster.local")
done
# One certificate for the three members: server (clients, peers) and client (peers) use.
make_cert etcd-member etcd-ca '/O=atoll/CN=atoll-etcd' serverAuth,clientAuth \
  "$(IFS=,; echo "${members[*]}"),DNS:localhost,IP:127.0.0.1"
make_cert allocator-etcd-client etcd-ca '/O=atoll/CN=atoll-allocator' clientAuth
# localhost: for `kubectl port-forward` to the allocator.
make_cert allocator atoll-ca '/O=atoll/CN=atoll-allocator' serverAuth \
  "DNS:atoll-allocator.$ns.svc,DNS:atoll-allocator.$ns.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
make_cert admin atoll-ca '/O=atoll:admins/CN=atoll-admin' clientAuth

cp atoll-ca.crt allocator-client-ca.crt
if [[ -n $kube_client_ca ]]; then
  cat "$kube_client_ca" >>allocator-client-ca.crt
else
  echo "$0: no KUBE_CLIENT_CA given: the allocator will refuse the node agents until" \
    "allocator-client-ca.crt also holds the CA of your kubelets' client certificates" >&2
fi

chmod 0644 ./*.crt
echo "certificates and keys are in $(pwd); keep atoll-ca.key and etcd-ca.key offline"
