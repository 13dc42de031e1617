#!/bin/sh
# tests/tls-certs.sh DIR - throwaway certificates for the TLS tests and demos.
#
# Makes, in DIR (created if missing), with the openssl command:
#   ca.pem, ca.key        a certificate authority of our own (CN=kit test CA)
#   cert.pem, key.pem     a server certificate signed by it, for
#                         DNS:localhost, IP:127.0.0.1 and IP:::1
#   other.pem, other.key  one for the wrong name (CN=wrong.example), signed
#                         by the same CA: for hostname-mismatch tests
# All keys ECDSA P-256 (small and fast), all valid 30 days.  Prints nothing
# on success; one line on stderr and exit 1 on failure.
#
# A client that trusts ca.pem accepts cert.pem for "localhost":
#   curl --cacert DIR/ca.pem https://localhost:PORT/
#   openssl s_client -connect 127.0.0.1:PORT -CAfile DIR/ca.pem -verify_return_error
# These keys are made at test time and never committed: anyone may read them.
set -u

me=tls-certs.sh
if [ $# -ne 1 ]; then
    echo "usage: $me DIR   (makes ca.pem ca.key cert.pem key.pem other.pem other.key in DIR)" >&2
    exit 2
fi
dir=$1
if ! command -v openssl >/dev/null 2>&1; then
    echo "$me: the openssl command is missing (Debian/Fedora package: openssl; or make deps)" >&2
    exit 1
fi
mkdir -p "$dir" || { echo "$me: cannot make the folder $dir" >&2; exit 1; }
umask 077                       # keys readable by us only, even throwaway ones
log=$dir/.tls-certs.log

# run WHAT CMD...: run CMD quietly (openssl chats on stderr); on failure,
# say what we were making and openssl's last line, and stop.
run() {
    what=$1; shift
    if ! "$@" >"$log" 2>&1; then
        echo "$me: making $what in $dir failed: $(tail -n 1 "$log")" >&2
        exit 1
    fi
}

# The extensions each certificate carries, by section.  Without them a
# verifier refuses: a CA must say CA:TRUE, and a name is checked against
# subjectAltName only (the CN is ignored by modern clients).
ext=$dir/.extensions.cnf
cat >"$ext" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid

[other]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
authorityKeyIdentifier = keyid
EOF

# The CA: a self-signed certificate (req -x509) with a fresh key.
# -config points at our file so that the system's openssl.cnf changes nothing.
run "the CA (ca.pem)" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 \
    -subj "/CN=kit test CA" -config "$ext" -extensions ca

# sign CERT KEY CN SECTION SERIAL: a fresh key in KEY, a request for CN, and
# the CA's signature on it (CERT.pem) with the extensions of SECTION.
sign() {
    cert=$dir/$1.pem key=$dir/$2 csr=$dir/.$1.csr
    run "the key $key" openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$key"
    run "the request for CN=$3" openssl req -new -key "$key" -subj "/CN=$3" \
        -config "$ext" -out "$csr"
    run "$cert" openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -days 30 -set_serial "$5" -extfile "$ext" -extensions "$4" -out "$cert"
    rm -f "$csr"
}
sign cert key.pem localhost server 2
sign other other.key wrong.example other 3

rm -f "$log" "$ext"
