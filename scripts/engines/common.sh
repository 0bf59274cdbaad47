# Shared by scripts/engines/*.sh (sourced, not run).

say() { echo "engines/$1: $2" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    say "$1" "run me as root (it installs packages and starts an engine)"
    exit 1
  fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1  # needrestart must never restart a running engine
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

# api_answers SOCKET: the Docker API answers /_ping on the unix socket.
api_answers() {
  [ -S "$1" ] && curl -fsS --max-time 3 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1
}

# wait_api NAME SOCKET SECONDS LOG
wait_api() {
  local i
  for i in $(seq 1 $(($3 * 2))); do
    api_answers "$2" && return 0
    sleep 0.5
  done
  say "$1" "nothing answers on $2 after $3 s; last lines of $4:"
  tail -n 30 "$4" >&2 || true
  exit 1
}

# The images the matrix needs in every engine: the base image, and this checkout's agent-runner image,
# tagged <version>-<source hash> as the CLI names it (source/buildContext.ts; STIGMER_DEV_IMAGE_REPOSITORY
# decides its repository, as it does for the CLI). Read from the build in dist/, which npm test makes first.
default_images() {
  local tag
  tag=$(node --input-type=module -e "
    const { imageSourceHash } = await import('./dist/buildContext.js');
    const { imageTag } = await import('./dist/contract.js');
    const { packageVersion } = await import('./dist/version.js');
    console.log(imageTag(packageVersion, imageSourceHash()));" 2>/dev/null) || { say images "no build in dist/ to name the agent-runner image by (npm run build first)"; tag=; }
  echo "debian:trixie-slim" $tag
}

# copy_images NAME DOCKER_HOST [IMAGE...]: `docker save` from the host's engine, `docker load` into the
# other one, for each image the other one lacks or holds at another id. Cached: nothing moves when the
# ids match.
copy_images() {
  local name=$1 target=$2 image
  shift 2
  local images=("$@")
  [ ${#images[@]} -gt 0 ] || read -r -a images <<<"$(default_images)"
  for image in "${images[@]}"; do
    local id there
    id=$(DOCKER_HOST= docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || { say "$name" "$image is not in the host's engine; skipped (build it first)"; continue; }
    there=$(DOCKER_HOST=$target docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "$there" = "$id" ] || [ "$there" = "${id#sha256:}" ] || [ "sha256:$there" = "$id" ]; then continue; fi
    say "$name" "loading $image"
    DOCKER_HOST= docker save "$image" | DOCKER_HOST=$target docker load >/dev/null
  done
}
