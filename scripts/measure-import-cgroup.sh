#!/bin/sh
# measure-import-cgroup.sh measures the bulk import's memory in a cgroup v1
# memory cgroup, the figure docs/store.md gives (not the process's RSS).
#
#	scripts/measure-import-cgroup.sh [-n ROWS] [-l LIMIT] [-d DIR] [-b BINDIR]
#
# It builds scripts/mkdb and cmd/latchctl from this tree (or uses the ones
# in BINDIR), then runs, each in a fresh memory cgroup limited to LIMIT
# bytes (default 256 MiB) with no swap:
#   users  mkdb: a users file of ROWS new users with a card each, imported
#          into an empty database (store.ImportFile);
#   mfa    latchctl import of ROWS MFA-code rows, one per user of that
#          database.
# For each it prints the exit status, the wall time, memory.max_usage_in_bytes
# (anonymous memory plus the page cache charged to the cgroup: the database
# file's pages, read and written, count), memory.failcnt (and
# memory.memsw.failcnt when swap is accounted: how often a charge hit the
# limit), the oom_kill count, and the peak anonymous memory (total_rss of
# memory.stat, sampled every 0.1 s). A run the kernel kills shows status
# 137 and oom_kill 1; the mfa run then gets a database built without the
# limit.
#
# The cgroup is made under the caller's own memory cgroup (the v1 hierarchy
# at /sys/fs/cgroup/memory) and removed afterwards. Needs write access to
# it (root here).
set -eu

rows=1000000
limit=$((256 << 20))
dir=/tmp/latch-import-cgroup
bindir=
while getopts n:l:d:b: o; do
	case $o in
	n) rows=$OPTARG ;;
	l) limit=$OPTARG ;;
	d) dir=$OPTARG ;;
	b) bindir=$OPTARG ;;
	*) sed -n '4p' "$0" >&2; exit 2 ;;
	esac
done

root=/sys/fs/cgroup/memory
own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
parent=$root${own%/}
[ -w "$parent" ] || { echo "measure-import-cgroup: $parent is not writable" >&2; exit 1; }

here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$bindir" ]; then
	bindir=$dir/bin
	mkdir -p "$bindir"
	(cd "$here" && go build -o "$bindir/mkdb" ./scripts/mkdb && go build -o "$bindir/latchctl" ./cmd/latchctl)
fi
rm -rf "$dir/db"
mkdir -p "$dir/db"

# run NAME CMD...: runs CMD in a fresh cgroup and prints one line of figures.
run() {
	name=$1
	shift
	cg=$parent/latch-import-$$-$name
	mkdir "$cg"
	echo "$limit" >"$cg/memory.limit_in_bytes"
	[ -e "$cg/memory.memsw.limit_in_bytes" ] && echo "$limit" >"$cg/memory.memsw.limit_in_bytes"
	echo 0 >"$cg/memory.swappiness"
	# Start with the files out of the page cache, as after a reboot (pages
	# cached earlier would be charged to another cgroup, not this one).
	sync
	for f in "$dir"/db/* "$dir"/*.csv; do
		[ -f "$f" ] && dd if="$f" iflag=nocache count=0 status=none
	done
	peak=0
	start=$(date +%s.%N)
	sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$@" >"$dir/$name.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		r=$(awk '$1 == "total_rss" { print $2 }' "$cg/memory.stat")
		[ "${r:-0}" -gt "$peak" ] && peak=$r
		sleep 0.1
	done
	status=0
	wait "$pid" || status=$?
	end=$(date +%s.%N)
	max=$(cat "$cg/memory.max_usage_in_bytes")
	fail=$(cat "$cg/memory.failcnt")
	[ -e "$cg/memory.memsw.failcnt" ] && fail=$fail/$(cat "$cg/memory.memsw.failcnt")
	oom=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control")
	printf '%-5s rows=%d limit=%dMiB status=%d time=%.1fs max_usage=%dMiB failcnt=%s oom_kill=%s peak_rss=%dMiB\n' \
		"$name" "$rows" $((limit >> 20)) "$status" "$(echo "$end - $start" | bc)" $((max >> 20)) "$fail" "${oom:-?}" $((peak >> 20))
	# The cgroup can be removed once empty; its page cache moves to the parent.
	rmdir "$cg"
}

run users "$bindir/mkdb" -n "$rows" -db "$dir/db/latch.db" -key "$dir/db/device.key"
if [ "$status" -ne 0 ]; then
	# The mfa run needs the database: build it again without the limit.
	rm -rf "$dir/db"
	mkdir -p "$dir/db"
	"$bindir/mkdb" -n "$rows" -db "$dir/db/latch.db" -key "$dir/db/device.key" >"$dir/prep.out" 2>&1
fi
awk -v n="$rows" 'BEGIN {
	print "externalId,type,cardFormat,cardNumber,code"
	for (i = 1; i <= n; i++) printf "u%07d,mfa_code,,,%08d\n", i, (i * 7919) % 100000000
}' >"$dir/mfa.csv"
run mfa "$bindir/latchctl" import --no-progress --db "$dir/db/latch.db" --key "$dir/db/device.key" "$dir/mfa.csv"
