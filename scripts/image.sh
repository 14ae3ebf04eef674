#!/usr/bin/env bash
# Build and run the project's container images without a Docker engine:
# buildah builds deploy/Dockerfile, podman runs the containers (docs/deploy.md,
# "Images"). Needs root.
#
#   scripts/image.sh build   build rlx:latest (every process, LibTorch for jobs
#                            that ask for it) and rlx-actor:latest (actor,
#                            evaluator, rlctl; no LibTorch); print their sizes
#   scripts/image.sh smoke   run a short CartPole job in containers on the host
#                            network: replay server, learner and evaluator from
#                            rlx:latest, two actors from rlx-actor:latest, rlctl
#                            submit/watch from rlx:latest; exit 0 if it succeeds
#   scripts/image.sh base    only install the tools and make the base images
#   scripts/image.sh test    build, then smoke (CTest label "image"); exit 77
#                            (skipped, with the reason) where this machine
#                            cannot build or run containers
#
# With no registry to pull from, the base images the Dockerfile names
# (debian:bookworm, debian:bookworm-slim) are made here once with debootstrap
# from the Debian mirror of this machine's apt sources, and kept in podman's
# storage. buildah, podman, runc and debootstrap are installed with apt when
# missing.
#
# Environment:
#   RLX_IMAGE, RLX_ACTOR_IMAGE  tags (default rlx:latest, rlx-actor:latest)
#   RLX_BUILD_JOBS              compile jobs inside the build (default: nproc)
#   RLX_IMAGE_CACHE             work folder (default /var/tmp/rlx-image)
#   RLX_IMAGE_JOB               job file of the smoke run, inside the image
#                               (default /opt/rlx/jobs/cartpole_stream_ac.textproto)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-}
image=${RLX_IMAGE:-rlx:latest}
actor_image=${RLX_ACTOR_IMAGE:-rlx-actor:latest}
cache=${RLX_IMAGE_CACHE:-/var/tmp/rlx-image}
jobs=${RLX_BUILD_JOBS:-$(nproc)}
job_file=${RLX_IMAGE_JOB:-/opt/rlx/jobs/cartpole_stream_ac.textproto}

say() { echo "image: $*" >&2; }
fail() { say "error: $*"; exit 1; }
# In test mode a machine that cannot build or run containers skips (77).
cannot() {
  if [[ $mode == test ]]; then
    echo "[  SKIPPED ] image test: $*" >&2
    exit 77
  fi
  fail "$*"
}

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }
case $mode in
  base | build | smoke | test) ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

[[ $(id -u) -eq 0 ]] || cannot "needs root (debootstrap, rootful buildah and podman)"
mkdir -p "$cache"

install_tools() {
  local missing=()
  for t in buildah podman runc debootstrap; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing ${missing[*]} with apt"
  if ! { apt-get install -y -q "${missing[@]}" || { apt-get update -q && apt-get install -y -q "${missing[@]}"; }; } \
    >"$cache/apt.log" 2>&1; then
    tail -5 "$cache/apt.log" >&2
    cannot "could not install ${missing[*]} (log: $cache/apt.log)"
  fi
}

# podman's defaults fail on some hosts: crun refuses hybrid cgroup v1/v2
# hierarchies (runc copes), and root without CAP_SYS_RESOURCE cannot raise
# nofile to podman's default 1048576. Use runc and this machine's hard limits.
write_containers_conf() {
  local nofile nproc
  nofile=$(ulimit -Hn)
  [[ $nofile == unlimited || $nofile -gt 1048576 ]] && nofile=1048576
  nproc=$(ulimit -Hu)
  # Above 32768 runc failed here even below the hard limit ("error setting
  # rlimit type 6: operation not permitted").
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  cat >"$cache/containers.conf" <<EOF
# Written by scripts/image.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF=$cache/containers.conf
}

apt_mirror() {
  local m=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    m=$(awk '$1 == "URIs:" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $m && -f /etc/apt/sources.list ]]; then
    m=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# debian:bookworm and debian:bookworm-slim, made with debootstrap --variant=
# minbase: the packages of the official images (not their digests), apt
# configured like them, and this machine's apt sources so that RUN apt-get
# inside the build reaches the same mirror. -slim leaves out documentation,
# man pages and translations (a dpkg path filter keeps later installs out too).
make_base_images() {
  if podman image exists docker.io/library/debian:bookworm &&
    podman image exists docker.io/library/debian:bookworm-slim; then
    return 0
  fi
  local mirror rootfs=$cache/rootfs
  mirror=$(apt_mirror)
  say "making the base images with debootstrap from $mirror (about a minute, once)"
  rm -rf "$rootfs"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -5 "$cache/debootstrap.log" >&2
    cannot "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  rm -f "$rootfs/etc/apt/sources.list"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
  else
    cp /etc/apt/sources.list "$rootfs/etc/apt/sources.list"
  fi
  # apt as in the official images: no package caches kept, no translations,
  # no services started by package scripts.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  find "$rootfs/var/log" -type f -exec truncate -s 0 {} +
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  import_rootfs "$rootfs" debian:bookworm
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -type f ! -name copyright -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale,groff,lintian}/*
  import_rootfs "$rootfs" debian:bookworm-slim
  rm -rf "$rootfs"
}

import_rootfs() {  # import_rootfs DIR NAME:TAG
  tar --numeric-owner -C "$1" -c . |
    podman import --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      - "docker.io/library/$2" >/dev/null || cannot "podman import of $2 failed"
  say "base image $2 made"
}

image_mb() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'; }

# The build context: a snapshot of the checkout's files (tracked and untracked
# but not ignored, as they are now), so that both images are built from the
# same sources even while the checkout changes, and nothing git ignores
# (build folders, secrets) is sent. Outside a git checkout: the folder itself.
snapshot_context() {
  local ctx=$cache/context
  if ! git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "$root"
    return
  fi
  rm -rf "$ctx"
  mkdir -p "$ctx"
  git -C "$root" ls-files -z -c -o --exclude-standard |
    (cd "$root" && xargs -0 tar --no-recursion --ignore-failed-read -cf - 2>/dev/null) | tar -C "$ctx" -xf - ||
    fail "could not copy the sources into $ctx"
  echo "$ctx"
}

build() {
  install_tools
  write_containers_conf
  make_base_images
  local ctx
  ctx=$(snapshot_context)
  local args=(--layers --format docker --pull=never --isolation oci
    --build-arg "RLX_BUILD_JOBS=$jobs" -f "$ctx/deploy/Dockerfile"
    --ignorefile "$ctx/deploy/dockerignore")
  local t0=$SECONDS
  say "building $image (context $ctx, $jobs compile jobs)"
  buildah bud "${args[@]}" -t "$image" "$ctx" >"$cache/build.log" 2>&1 ||
    { tail -30 "$cache/build.log" >&2; fail "build of $image failed (log: $cache/build.log)"; }
  say "building $actor_image (stage actor; the build stage comes from the cache)"
  buildah bud "${args[@]}" --target actor -t "$actor_image" "$ctx" >>"$cache/build.log" 2>&1 ||
    { tail -30 "$cache/build.log" >&2; fail "build of $actor_image failed (log: $cache/build.log)"; }
  say "built in $((SECONDS - t0)) s: $image $(image_mb "$image") MB, $actor_image $(image_mb "$actor_image") MB"
}

smoke() {
  write_containers_conf
  command -v podman >/dev/null || cannot "podman is not installed (scripts/image.sh build installs it)"
  podman image exists "$image" || cannot "no image $image (run scripts/image.sh build)"
  podman image exists "$actor_image" || cannot "no image $actor_image (run scripts/image.sh build)"
  # A container that cannot start here (no cgroups, no user namespaces in a
  # chroot) makes the rest meaningless.
  if ! out=$(podman run --rm --network host "$actor_image" true 2>&1); then
    echo "$out" | tail -5 >&2
    cannot "podman cannot run a container on this machine"
  fi
  # The small image really has no LibTorch.
  if podman run --rm --entrypoint sh "$actor_image" -c 'ls /usr/lib/*/libtorch* /usr/local/bin/librlx_torch_backend.so' \
    >/dev/null 2>&1; then
    fail "$actor_image contains LibTorch"
  fi

  local run_dir names=()
  run_dir=$(mktemp -d "$cache/smoke.XXXXXX")
  chmod 0777 "$run_dir"  # the containers run as the image's user rlx
  local tag=rlx-smoke-$$
  cleanup() {
    for n in "${names[@]}"; do podman rm -f -t 5 "$n" >/dev/null 2>&1 || true; done
  }
  trap cleanup EXIT
  start() {  # start NAME IMAGE ARGS...: a detached container on the host network
    local name=$tag-$1 img=$2
    shift 2
    names+=("$name")
    podman run -d --name "$name" --network host -v "$run_dir:/run/rlx" "$img" "$@" >/dev/null
  }
  wait_port() {  # wait_port FILE: the gRPC port a server wrote once it serves
    for _ in $(seq 1 300); do
      # The first line is the gRPC port; a whole line means it is written.
      if [[ -f $1 && $(wc -l <"$1") -ge 1 ]]; then
        head -n 1 "$1"
        return 0
      fi
      sleep 0.1
    done
    fail "no port in $1 after 30 s; logs: podman logs $tag-..."
  }
  # Every server binds 127.0.0.1 (the default) on a free port and writes it.
  start replay "$image" replay_server --port=0 --port_file=/run/rlx/replay.port --metrics_port=0 \
    --checkpoint_dir=/run/rlx/replay
  local replay_port learner_port
  replay_port=$(wait_port "$run_dir/replay.port")
  start learner "$image" learner --port=0 --port_file=/run/rlx/learner.port --metrics_port=0 \
    --replay="127.0.0.1:$replay_port" --checkpoint_dir=/run/rlx/learner
  learner_port=$(wait_port "$run_dir/learner.port")
  start evaluator "$image" evaluator --port=0 --port_file=/run/rlx/evaluator.port --metrics_port=0 \
    --learner="127.0.0.1:$learner_port"
  wait_port "$run_dir/evaluator.port" >/dev/null
  for i in 1 2; do
    start "actor-$i" "$actor_image" actor --name="actor-$i" --metrics_port=0 \
      --learner="127.0.0.1:$learner_port" --replay="127.0.0.1:$replay_port"
  done
  say "replay :$replay_port, learner :$learner_port, evaluator, 2 actors running as containers"
  local job t0=$SECONDS rc=0
  job=$(podman run --rm --network host "$image" rlctl submit "$job_file" \
    --address="127.0.0.1:$learner_port") || fail "rlctl submit failed"
  say "submitted job $job; watching it"
  timeout 300 podman run --rm --network host "$image" rlctl watch "$job" \
    --address="127.0.0.1:$learner_port" --interval_ms=5000 || rc=$?
  podman run --rm --network host "$image" rlctl status "$job" --address="127.0.0.1:$learner_port" || true
  if ((rc != 0)); then
    for n in "${names[@]}"; do
      echo "---- podman logs $n (last 20 lines)" >&2
      podman logs "$n" 2>&1 | tail -20 >&2
    done
    fail "job $job did not succeed (rlctl watch exit status $rc)"
  fi
  say "job $job succeeded in $((SECONDS - t0)) s across 5 containers"
  say "images: $image $(image_mb "$image") MB, $actor_image $(image_mb "$actor_image") MB"
}

case $mode in
  base)
    install_tools
    write_containers_conf
    make_base_images
    ;;
  build) build ;;
  smoke) smoke ;;
  test)
    build
    smoke
    ;;
esac
