#!/usr/bin/env bash
# The remote test host (issue 12): a Docker 28.5 engine in a container of its own, reached the ways a
# user reaches a remote box, never through a shared file system or loopback:
#   - ssh: sshd (key authentication, a test key) on 127.0.0.1:$STIGMER_REMOTE_SSH_PORT (default 22022);
#     `ssh stigmer-remote-test docker system dial-stdio` reaches its dockerd's unix socket
#   - tcp+TLS: dockerd on 127.0.0.1:$STIGMER_REMOTE_TLS_PORT (default 22376), test certificates made with
#     openssl (a CA, a server certificate for 127.0.0.1/localhost, a client certificate)
# Idempotent, as root. The image is scripts/engines/dind's Docker 28.5 image (built here when missing, so
# the layers are shared) plus openssh-server (scripts/engines/remote/Dockerfile). Its dockerd runs with
# DOCKER_MIN_API_VERSION=1.44 (Docker 29's floor) and keeps /var/lib/docker in $state/docker, so images
# survive between runs. Unlike dind.sh's engines it shares neither /tmp nor $HOME nor the host's pids:
# its own mount, pid and network namespaces, on Docker's default bridge (NEVER the host's network,
# never --privileged: see dind.sh), with only the two ports published, on 127.0.0.1. With --init: a real
# host's dockerd runs under an init that reaps orphans; as pid 1 itself it reaped none, and each
# container's exited shim stayed a zombie (1040 after a few hours of test runs, with its own pids).
# Writes a Host block `stigmer-remote-test` (and the error cases' aliases) into ~/.ssh/config of the passwd
# home (ssh reads that one, not $HOME), with its own known_hosts file; the TLS client files go to
# $state/client. Loads the given images (default: the base image and this checkout's agent-runner image)
# with `docker save | docker load`. Prints, as shell assignments:
#   STIGMER_REMOTE_SSH=ssh://stigmer-remote-test     the ssh endpoint (DOCKER_HOST)
#   STIGMER_REMOTE_TLS=tcp://127.0.0.1:PORT          the tcp+TLS endpoint (DOCKER_HOST, with the next two)
#   STIGMER_REMOTE_CERT_PATH=DIR                     DOCKER_CERT_PATH for it (DOCKER_TLS_VERIFY=1)
#   STIGMER_REMOTE_CONTEXT_SSH/_TLS=NAME              docker contexts for both (in ~/.docker, TLS material included)
#   STIGMER_ENGINE_BIN=DIR                           Docker 28.5's CLI (the host's 20.10 CLI speaks API 1.41)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/engines/common.sh

need_root remote
name=stigmer-remote-test
image=stigmer-engines/remote:28
state=/var/lib/stigmer-engines/$name
bindir=/var/lib/stigmer-engines/bin/$name
ssh_port=${STIGMER_REMOTE_SSH_PORT:-22022}
tls_port=${STIGMER_REMOTE_TLS_PORT:-22376}
host() { DOCKER_HOST= docker "$@"; }

mkdir -p "$state/ssh" "$state/tls" "$state/client" "$state/docker"
DOCKER_HOST= bash docker/base-image.sh >&2
remote_image

# --- test credentials, made once -------------------------------------------------------------------
ssh_dir=$state/ssh
[ -f "$ssh_dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C stigmer-remote-test -f "$ssh_dir/id_ed25519"
[ -f "$ssh_dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C stigmer-remote-test-host -f "$ssh_dir/ssh_host_ed25519_key"
cp "$ssh_dir/id_ed25519.pub" "$ssh_dir/authorized_keys"
chmod 644 "$ssh_dir/authorized_keys"
echo "$name $(cut -d' ' -f1,2 "$ssh_dir/ssh_host_ed25519_key.pub")" >"$ssh_dir/known_hosts"

tls=$state/tls
if [ ! -f "$tls/server-cert.pem" ] || [ ! -f "$state/client/cert.pem" ]; then
  say remote "making test certificates in $tls"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj /CN=stigmer-remote-test-ca \
    -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 -subj /CN=localhost -keyout "$tls/server-key.pem" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
  openssl x509 -req -sha256 -days 3650 -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial \
    -extfile "$tls/server.ext" -out "$tls/server-cert.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 -subj /CN=stigmer-remote-test-client -keyout "$state/client/key.pem" -out "$tls/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$tls/client.ext"
  openssl x509 -req -sha256 -days 3650 -in "$tls/client.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial \
    -extfile "$tls/client.ext" -out "$state/client/cert.pem" 2>/dev/null
  cp "$tls/ca.pem" "$state/client/ca.pem"
  chmod 644 "$tls/server-key.pem"  # read by the container's dockerd (root there); the directory is root's
  chmod 700 "$tls" "$state/client"
fi

# --- the container -------------------------------------------------------------------------------
running=$(host container inspect -f '{{.State.Running}}' "$name" 2>/dev/null) || running=missing
flags=2-$ssh_port-$tls_port
if [ "$running" != missing ] && { [ "$(host container inspect -f '{{.Image}}' "$name")" != "$(host image inspect -f '{{.Id}}' "$image")" ] ||
  [ "$(host container inspect -f '{{index .Config.Labels "ai.stigmer.engine-flags"}}' "$name")" != "$flags" ]; }; then
  say remote "$name runs an older image or older flags; replacing it"
  host rm -f "$name" >/dev/null
  running=missing
fi
if [ "$running" = missing ]; then
  say remote "starting $name (ssh on 127.0.0.1:$ssh_port, tcp+TLS on 127.0.0.1:$tls_port)"
  host run -d --name "$name" --hostname "$name" --label ai.stigmer.engine-matrix=true --label ai.stigmer.engine-flags="$flags" \
    -e DOCKER_MIN_API_VERSION=1.44 --init \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup \
    -v "$state/docker:/var/lib/docker" -v "$ssh_dir:/etc/stigmer-remote/ssh:ro" -v "$tls:/etc/stigmer-remote/tls:ro" --tmpfs /run \
    -p "127.0.0.1:$ssh_port:22" -p "127.0.0.1:$tls_port:2376" \
    "$image" >/dev/null
elif [ "$running" != true ]; then
  say remote "starting the stopped $name"
  host start "$name" >/dev/null
fi

# --- the client side: ssh config in the passwd home, TLS files, Docker 28.5's CLI --------------------
home=$(getent passwd "$(id -un)" | cut -d: -f6)
mkdir -p "$home/.ssh"
chmod 700 "$home/.ssh"
config=$home/.ssh/config
touch "$config"
chmod 600 "$config"
# the error cases' aliases first: ssh takes the first value it reads for each option
block=$(cat <<BLOCK
# >>> stigmer-remote-test (scripts/engines/remote.sh; the test engine on this machine's loopback)
Host $name-unknown-key
  UserKnownHostsFile /dev/null
Host $name-refused
  User nosuchuser
Host $name-no-docker
  User nodockerpath
Host $name-no-socket
  User nodocker
Host $name $name-unknown-key $name-refused $name-no-docker $name-no-socket
  HostName 127.0.0.1
  Port $ssh_port
  User root
  IdentityFile $ssh_dir/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $ssh_dir/known_hosts
  HostKeyAlias $name
  StrictHostKeyChecking yes
  BatchMode yes
# <<< stigmer-remote-test
BLOCK
)
# this block goes first, the user's lines after it
rest=$(sed '/^# >>> stigmer-remote-test/,/^# <<< stigmer-remote-test/d' "$config")
printf '%s\n%s\n' "$block" "$rest" >"$config.new" && mv "$config.new" "$config"

if ! [ -x "$bindir/docker" ]; then
  mkdir -p "$bindir"
  host cp "$name:/usr/bin/docker" "$bindir/docker"
fi
tls_host=tcp://127.0.0.1:$tls_port
remote() { PATH=$bindir:$PATH DOCKER_HOST=$tls_host DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$state/client docker "$@"; }
for _ in $(seq 1 120); do remote version >/dev/null 2>&1 && break; sleep 0.5; done
if ! remote version >/dev/null 2>&1; then
  say remote "its dockerd does not answer on $tls_host after 60 s; last lines of its log:"
  host logs --tail 30 "$name" >&2 || true
  exit 1
fi
for _ in $(seq 1 20); do ssh -o ConnectTimeout=5 "$name" true 2>/dev/null && break; sleep 0.5; done
ssh -o ConnectTimeout=5 "$name" docker version --format '{{.Server.Version}}' >/dev/null || { say remote "ssh $name docker version failed"; exit 1; }
# loaded over ssh (the docker CLI dials ssh:// itself; TLS settings in the environment would also apply to the host's socket)
PATH=$bindir:$PATH copy_images remote "ssh://$name" "$@"

# docker contexts for both (the context files and their TLS material, as `docker context create` writes them)
ctx() { PATH=$bindir:$PATH DOCKER_HOST= docker context "$@"; }
ctx rm -f "$name-ssh" "$name-tls" >/dev/null 2>&1 || true
ctx create "$name-ssh" --docker "host=ssh://$name" >/dev/null
ctx create "$name-tls" --docker "host=$tls_host,ca=$state/client/ca.pem,cert=$state/client/cert.pem,key=$state/client/key.pem" >/dev/null

echo "STIGMER_REMOTE_SSH=ssh://$name"
echo "STIGMER_REMOTE_TLS=$tls_host"
echo "STIGMER_REMOTE_CERT_PATH=$state/client"
echo "STIGMER_REMOTE_CONTEXT_SSH=$name-ssh"
echo "STIGMER_REMOTE_CONTEXT_TLS=$name-tls"
echo "STIGMER_ENGINE_BIN=$bindir"
