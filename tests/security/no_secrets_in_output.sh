#!/bin/sh
# Credentials never reach output: runs `kinf serve` (TLS, token file) and `kinf get` with debug
# logging (KINF_LOG_LEVEL=debug) through every credential path and failure we can provoke — a good
# token, a wrong token (401), basic auth (401), an exec plugin (good, refused, malformed output),
# a server certificate nobody trusts (no CA; the wrong CA) and a client key — then searches all of
# stdout and stderr, and the server's, for the secret bytes. docs/security.md points here.
# usage: no_secrets_in_output.sh KINF
set -eu
. "$(dirname "$0")/../informers/lib.sh"
kinf=$1
command -v openssl >/dev/null 2>&1 || { echo "SKIP: no openssl"; exit 0; }

good_token=sekret-good-token-4f8a1c9e
wrong_token=sekret-wrong-token-77d0b3a2
exec_token=sekret-exec-token-e51c0d66
exec_bad_token=sekret-exec-refused-9b2f4a11
exec_garbage=sekret-exec-garbage-3c7e8d05
basic_password=sekret-basic-password-a0c4

# Server and client PKI (the server's key and the client's key are secrets too).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/server.key" -out "$tmp/server.crt" \
  >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other-ca" \
  -keyout "$tmp/other.key" -out "$tmp/other.crt" >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=client" \
  -keyout "$tmp/client.key" -out "$tmp/client.crt" >/dev/null 2>&1
server_key_line=$(sed -n 2p "$tmp/server.key")
client_key_line=$(sed -n 2p "$tmp/client.key")

printf '%s,alice,1\n%s,bob,2\n' "$good_token" "$exec_token" >"$tmp/tokens.csv"

export KINF_LOG_LEVEL=debug
start_server "$kinf" --seed demo --tls-cert-file "$tmp/server.crt" \
  --tls-private-key-file "$tmp/server.key" --token-auth-file "$tmp/tokens.csv" \
  --write-kubeconfig "$tmp/good.kubeconfig"
wait_for_line "$tmp/serve.out" '^kubeconfig written'
ca_data=$(base64 -w0 <"$tmp/server.crt")
other_ca=$(base64 -w0 <"$tmp/other.crt")

# kubeconfig NAME CLUSTER_LINE USER_LINES...: a one-context kubeconfig.
kubeconfig() {
  name=$1
  cluster=$2
  shift 2
  {
    printf 'apiVersion: v1\nkind: Config\ncurrent-context: c\n'
    printf 'clusters:\n- name: c\n  cluster:\n    server: %s\n' "$url"
    [ -z "$cluster" ] || printf '    %s\n' "$cluster"
    printf 'contexts:\n- name: c\n  context: {cluster: c, user: u}\n'
    printf 'users:\n- name: u\n  user:\n'
    for line in "$@"; do printf '    %s\n' "$line"; done
  } >"$tmp/$name.kubeconfig"
  chmod 600 "$tmp/$name.kubeconfig"
}

# An exec plugin printing TOKEN (or, with "garbage", malformed output holding a secret).
plugin() {
  cat >"$tmp/$1.sh" <<EOF
#!/bin/sh
if [ "$2" = garbage ]; then echo '{"status": {"token": "$exec_garbage"'; exit 0; fi
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"$2"}}'
EOF
  chmod 700 "$tmp/$1.sh"
}
plugin exec-good "$exec_token"
plugin exec-bad "$exec_bad_token"
plugin exec-garbage garbage

kubeconfig wrong "certificate-authority-data: $ca_data" "token: $wrong_token"
kubeconfig basic "certificate-authority-data: $ca_data" "username: alice" \
  "password: $basic_password"
kubeconfig noca "" "token: $good_token"
kubeconfig otherca "certificate-authority-data: $other_ca" "token: $good_token"
kubeconfig clientkey "certificate-authority-data: $ca_data" "token: $good_token" \
  "client-certificate: $tmp/client.crt" "client-key: $tmp/client.key"
for p in exec-good exec-bad exec-garbage; do
  kubeconfig "$p" "certificate-authority-data: $ca_data" "exec:" \
    "  apiVersion: client.authentication.k8s.io/v1" "  command: $tmp/$p.sh" \
    "  interactiveMode: Never"
done

# run NAME WANT_RC ARGS...: runs kinf, keeping its output for the search.
run() {
  name=$1
  want=$2
  shift 2
  rc=0
  "$kinf" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "kinf $* exited $rc, want $want"
}
run good 0 get deploy --kubeconfig "$tmp/good.kubeconfig"
grep -q '^web' "$tmp/good.out" || fail "kinf get with the good token listed no Deployment web"
run good-sync 0 sync pods --kubeconfig "$tmp/good.kubeconfig" --for 1
run wrong 1 get pods --kubeconfig "$tmp/wrong.kubeconfig"
grep -q 'Unauthorized' "$tmp/wrong.err" || fail "a wrong token did not say Unauthorized"
run basic 1 get pods --kubeconfig "$tmp/basic.kubeconfig"
run noca 1 get pods --kubeconfig "$tmp/noca.kubeconfig"
grep -qi 'certificate' "$tmp/noca.err" || fail "an untrusted server certificate was not named"
run otherca 1 get pods --kubeconfig "$tmp/otherca.kubeconfig"
run clientkey 0 get pods --kubeconfig "$tmp/clientkey.kubeconfig"
run exec-good 0 get pods --kubeconfig "$tmp/exec-good.kubeconfig"
run exec-bad 1 get pods --kubeconfig "$tmp/exec-bad.kubeconfig"
run exec-garbage 1 get pods --kubeconfig "$tmp/exec-garbage.kubeconfig"
grep -q 'not valid JSON' "$tmp/exec-garbage.err" || fail "malformed plugin output not reported"

kill -TERM "$(echo "$pids" | awk '{print $NF}')"
sleep 0.5

# The search: every output of every run, the server's included. Kubeconfigs, token files and
# plugins hold the secrets on purpose and are not output.
found=0
for secret in "$good_token" "$wrong_token" "$exec_token" "$exec_bad_token" "$exec_garbage" \
  "$basic_password" "$server_key_line" "$client_key_line"; do
  if grep -lF -- "$secret" "$tmp"/*.out "$tmp"/*.err; then
    echo "FAIL: a secret (${secret%"${secret#??????????}"}...) appears in the files above" >&2
    found=1
  fi
done
[ "$found" -eq 0 ] || fail "credentials leaked into output"
lines=$(cat "$tmp"/*.out "$tmp"/*.err | wc -l)
echo "PASS: no credential in $lines lines of output from $(ls "$tmp"/*.out | wc -l) runs"
