#!/usr/bin/env bash
# make-secrets.sh [DIR] [EXTRA_NAME...]: a private CA, certificates and tokens
# for one rlx deployment (docs/deploy.md, "Certificates and tokens").
#
# Writes into DIR (default deploy/secrets; created 0700, refuses to overwrite):
#   ca.pem, ca.key        the CA (keep ca.key offline once the certificates exist)
#   server.pem/.key       the services' certificate, for serving and, under
#                         mutual TLS, as their client certificate. Names:
#                         replay, learner, evaluator, preference, localhost,
#                         127.0.0.1 and every EXTRA_NAME (a DNS name or an IP)
#   client.pem/.key       a client certificate for rlctl and workers outside
#   tokens                the servers' tokens file ("TOKEN ROLES" lines)
#   operator.token        rlctl: submit, cancel, and everything reader can
#   reader.token          dashboards, scripts: get, list, watch, info
#   worker.token          actors and the evaluator: lease, insert, parameters
#   learner.token         the learner's calls to the replay and preference
#                         servers: operator,worker (tables, sample, compare)
#   grant.key             the learner's and replay server's shared key for
#                         write grants (what each actor lease may insert)
# Needs only openssl. Certificates are valid for RLX_CERT_DAYS (default 365).
set -euo pipefail

dir=${1:-"$(dirname "$0")/secrets"}
shift || true
days=${RLX_CERT_DAYS:-365}

if [[ -e "$dir/ca.pem" || -e "$dir/tokens" ]]; then
  echo "make-secrets: $dir already holds secrets; remove them first to make new ones" >&2
  exit 1
fi
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

names="DNS:replay,DNS:learner,DNS:evaluator,DNS:preference,DNS:localhost,IP:127.0.0.1,IP:::1"
for extra in "$@"; do
  if [[ $extra =~ ^[0-9.]+$ || $extra == *:* ]]; then
    names+=",IP:$extra"
  else
    names+=",DNS:$extra"
  fi
done

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days "$days" -sha256 -subj "/CN=rlx CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

sign() {  # sign NAME CN SAN EKU
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$4"
    [[ -n $3 ]] && echo "subjectAltName=$3"
  } > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days "$days" -sha256 -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server rlx-services "$names" serverAuth,clientAuth
sign client rlx-client "" clientAuth
rm -f ca.srl

token() { openssl rand -hex 24; }
operator=$(token) reader=$(token) worker=$(token) learner=$(token)
printf '%s\n' "$operator" > operator.token
printf '%s\n' "$reader" > reader.token
printf '%s\n' "$worker" > worker.token
printf '%s\n' "$learner" > learner.token
openssl rand -hex 32 > grant.key
cat > tokens <<EOF
# rlx tokens: TOKEN ROLE[,ROLE...] (roles: operator, worker, reader).
$operator operator
$reader reader
$worker worker
$learner operator,worker
EOF

# The containers run as uid 10001: let them read the files, and keep others
# out through the directory's 0700.
chmod 644 ./*.pem ./*.key ./*.token tokens grant.key
chmod 600 ca.key  # never mounted into a container
echo "make-secrets: wrote CA, certificates and tokens to $dir"
