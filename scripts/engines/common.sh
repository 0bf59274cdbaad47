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

# dind_image 26|28: builds stigmer-engines/docker:VERSION (scripts/engines/dind: Docker 26.1 from Debian
# trixie's packages, 28.5 from sid's) in the host's engine when it is missing; the base image must exist.
dind_image() {
  local version=$1 suite image=stigmer-engines/docker:$1 log=/var/lib/stigmer-engines/stigmer-engine-docker$1.build.log
  case "$version" in
    26) suite=trixie ;;
    28) suite=sid ;;
    *) say dind "unknown version $version (26 or 28)"; return 2 ;;
  esac
  DOCKER_HOST= docker image inspect "$image" >/dev/null 2>&1 && return 0
  say "docker$version" "building $image from Debian $suite's packages"
  mkdir -p "$(dirname "$log")"
  DOCKER_HOST= docker build --build-arg SUITE="$suite" -t "$image" scripts/engines/dind >"$log" 2>&1 || {
    say "docker$version" "the build failed; last lines:"; tail -n 30 "$log" >&2; return 1; }
}

# remote_image: builds stigmer-engines/remote:28 (openssh-server on dind_image 28's image, for
# scripts/engines/remote.sh) when it is missing or its recipe changed (the label holds the recipe's hash).
remote_image() {
  local image=stigmer-engines/remote:28 log=/var/lib/stigmer-engines/stigmer-remote-test.build.log recipe
  dind_image 28 || return 1
  recipe=$(cat scripts/engines/remote/* | sha256sum | cut -c1-16)
  [ "$(DOCKER_HOST= docker image inspect -f '{{index .Config.Labels "ai.stigmer.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ] && return 0
  say remote "building $image (openssh-server on stigmer-engines/docker:28)"
  DOCKER_HOST= docker build --build-arg BASE=stigmer-engines/docker:28 --label ai.stigmer.recipe="$recipe" -t "$image" scripts/engines/remote >"$log" 2>&1 || {
    say remote "the build failed; last lines:"; tail -n 30 "$log" >&2; return 1; }
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
