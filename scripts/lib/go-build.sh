# Sourced by scripts/ensure-control-plane.sh and scripts/ensure-helm.sh: builds a Go command from
# modules without debug information, and while builds run prints a progress line on stderr every 15 s
# (what is being built, how far, for how long), because a first build takes minutes and must not look
# like a hang. Each build keeps its state in $GO_BUILD_WORK/<name>.{phase,total,log}.

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

# go_build_lock <lock file> <what>: one build into a cache directory at a time. A second caller (another
# test run, the demo) waits for the first, then finds the result in the cache. Holds fd 9 until exit.
go_build_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$1"
  if ! flock -n 9; then
    echo "lb-provisioner: waiting for another build of $2" >&2
    flock 9
  fi
}

go_build_phase() { echo "$2" > "$GO_BUILD_WORK/$1.phase"; }

# go_build_binary <name> <package> <output> [go build flags...]: builds in the current directory's
# module. -s -w keep debug information out of the binary, -dwarf=false keeps the compiler from making
# it in the first place; -trimpath keeps the machine's paths out.
go_build_binary() {
  local name=$1 package=$2 output=$3
  shift 3
  go list -deps "$package" | wc -l > "$GO_BUILD_WORK/$name.total"
  echo "$package" > "$GO_BUILD_WORK/$name.package"
  go_build_phase "$name" compiling
  if ! go build -v -trimpath -gcflags='all=-dwarf=false' "$@" -o "$output" "$package" 2>"$GO_BUILD_WORK/$name.log"; then
    cat "$GO_BUILD_WORK/$name.log" >&2
    echo "lb-provisioner: error: go build of $name failed (compiler output above)" >&2
    return 1
  fi
  go_build_phase "$name" done
}

# "kube-apiserver compiling 812 of 2079 packages; etcd waiting"
go_build_describe() {
  local name state compiled total parts=()
  for name in "$@"; do
    state=$(cat "$GO_BUILD_WORK/$name.phase" 2>/dev/null || echo waiting)
    if [[ "$state" == compiling ]]; then
      compiled=$(wc -l < "$GO_BUILD_WORK/$name.log" 2>/dev/null || echo 0)
      total=$(cat "$GO_BUILD_WORK/$name.total" 2>/dev/null || echo 0)
      # go build -v names each package it compiles (not those in the build cache, nor unsafe); the
      # command's own package comes last, then the link.
      if [[ "$(tail -n 1 "$GO_BUILD_WORK/$name.log" 2>/dev/null)" == "$(cat "$GO_BUILD_WORK/$name.package" 2>/dev/null)" ]]; then
        state=linking
      else
        state="compiling $((compiled)) of $((total)) packages"
      fi
    fi
    parts+=("$name $state")
  done
  local joined
  joined=$(printf '%s; ' "${parts[@]}")
  echo "${joined%; }"
}

# go_build_progress_start <name...>: the progress ticker, stopped by go_build_progress_stop (or at exit).
go_build_progress_start() {
  local started=$SECONDS
  (
    while sleep 15; do
      local elapsed=$((SECONDS - started))
      printf 'lb-provisioner: building for %dm%02ds: %s\n' $((elapsed / 60)) $((elapsed % 60)) "$(go_build_describe "$@")" >&2
    done
  ) &
  GO_BUILD_TICKER=$!
}

go_build_progress_stop() {
  [[ -z "${GO_BUILD_TICKER:-}" ]] || kill "$GO_BUILD_TICKER" 2>/dev/null || true
  GO_BUILD_TICKER=""
}

# "3m07s" since $1 (a $SECONDS value)
go_build_elapsed() { printf '%dm%02ds' $(((SECONDS - $1) / 60)) $(((SECONDS - $1) % 60)); }
