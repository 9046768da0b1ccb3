# Shared by scripts/measure-*.sh, sourced from the repository's root (bash).

# build_latchd DIR: builds latchd from this tree as DIR/latchd and makes DIR/data.
build_latchd() {
  mkdir -p "$1/data"
  "${GO:-go}" build -o "$1/latchd" ./cmd/latchd
}

# sim_config DIR [API_LINE...]: writes DIR/latch.toml, the simulated site latchd's
# tests run (cmd/latchd/testdata/sim.toml), with each API_LINE added to its [api].
sim_config() {
  local dir=$1 line
  shift
  while IFS= read -r line; do
    printf '%s\n' "$line"
    if [[ $line == "socket = "* ]] && (($#)); then printf '%s\n' "$@"; fi
  done <cmd/latchd/testdata/sim.toml >"$dir/latch.toml"
}
