#!/bin/sh
# Measures the fuzzer against the planted bugs in this directory.
#
#   fuzz/plants/run.sh [PATCH...]        (default: every fuzz/plants/*.patch)
#
# For each patch: copy the tree to a temporary directory (the working tree
# is never touched), apply the patch there, build ffsim, run the library
# (`ffsim run`) and `ffsim fuzz --time $FUZZ_TIME` (native host, default
# 30s) on it, and check the shrunk scenario: it must fail with the bug and
# pass on the unpatched tree. Prints a Markdown table, one row per plant.
#
# Environment: FUZZ_TIME (default 30s), FUZZ_FLAGS (extra fuzz flags),
# KEEP=1 keeps the temporary directory (its path is printed).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
time=${FUZZ_TIME:-30s}
work=$(mktemp -d "${TMPDIR:-/tmp}/ffsim-plants.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
	echo "keeping $work" >&2
else
	trap 'rm -rf "$work"' EXIT
fi

if [ $# -eq 0 ]; then
	set -- "$root"/fuzz/plants/*.patch
fi

# A pristine copy of the tree, and ffsim built from it.
mkdir "$work/clean"
(cd "$root" && tar --exclude=./.git --exclude=./ffsim-fuzz --exclude='*.test' -cf - .) | (cd "$work/clean" && tar -xf -)
(cd "$work/clean" && go build -o "$work/ffsim-clean" ./cmd/ffsim)

field() { # field NAME JSON-LINE: a number or string field of a JSON object
	printf '%s\n' "$2" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1
}

echo "| plant | SPEC | library | fuzz | first failure | shrunk steps | shrunk file: bug / fixed | signature |"
echo "|---|---|---|---|---|---|---|---|"
caught=0 total=0
for patch in "$@"; do
	name=$(basename "$patch" .patch)
	item=$(sed -n '1s/^Planted bug [^ ]* (\([^)]*\)).*/\1/p' "$patch")
	total=$((total + 1))
	rm -rf "$work/tree" "$work/out"
	cp -R "$work/clean" "$work/tree"
	if ! (cd "$work/tree" && git apply "$patch") >"$work/log" 2>&1; then
		echo "| $name | $item | - | patch does not apply | | | | |"
		continue
	fi
	if ! (cd "$work/tree" && go build -o "$work/ffsim" ./cmd/ffsim) >"$work/log" 2>&1; then
		echo "| $name | $item | - | does not build | | | | |"
		continue
	fi
	lib=missed
	(cd "$work/tree" && "$work/ffsim" run >/dev/null 2>&1) || lib=caught
	# shellcheck disable=SC2086
	(cd "$work/tree" && "$work/ffsim" fuzz --time "$time" --max-failures 1 --json --out "$work/out" ${FUZZ_FLAGS:-}) >"$work/fuzz.json" 2>"$work/fuzz.err" || true
	summary=$(grep '"summary"' "$work/fuzz.json" || true)
	# The first failure that was shrunk (another worker may report an
	# unshrunk one of the same kind first), else the first failure.
	failure=$(grep '"status":"fail"' "$work/fuzz.json" | grep '"shrunk_file"' | head -n 1 || true)
	[ -n "$failure" ] || failure=$(grep '"status":"fail"' "$work/fuzz.json" | head -n 1 || true)
	if [ -z "$failure" ]; then
		seeds=$(field seeds "$summary")
		echo "| $name | $item | $lib | missed ($seeds seeds) | | | | |"
		continue
	fi
	caught=$((caught + 1))
	first=$(field first_failure_seconds "$summary")
	steps=$(field shrunk_steps "$failure")
	file=$(field shrunk_file "$failure")
	seed=$(field seed "$failure")
	sig="$(field kind "$failure") / $(field class "$failure")"
	check="-"
	if [ -n "$file" ]; then
		bug=passes fixed=fails
		(cd "$work/tree" && "$work/ffsim" run "$file" >/dev/null 2>&1) || bug=fails
		(cd "$work/clean" && "$work/ffsim-clean" run "$file" >/dev/null 2>&1) && fixed=passes
		check="$bug / $fixed"
	fi
	printf '| %s | %s | %s | caught (seed %s) | %.2fs | %s | %s | %s |\n' "$name" "$item" "$lib" "$seed" "$first" "${steps:--}" "$check" "$sig"
done
echo
echo "caught $caught of $total within $time each"
