#!/usr/bin/env bash
# Runs every fuzz target of the module for $FUZZTIME (default 10s) each.
# Go runs one fuzz target at a time per package, so targets run in turn.
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded"
# as a failure when -fuzztime expires while a worker is mid-input
# (go.dev/issue/75804, fixed in Go 1.27): no input failed and none is
# written. Such a run is retried once; a failure that wrote an input, or
# that says anything else, fails at once, and a second deadline failure
# fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-10s}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# deadline_flake reports whether the log of a failed run is only the
# coordinator's deadline race.
deadline_flake() {
	grep -q 'context deadline exceeded' "$1" &&
		! grep -qE 'Failing input written|panic:' "$1" &&
		! grep -qE '^[[:space:]]+[A-Za-z0-9_]+_test\.go:[0-9]+:' "$1"
}

status=0
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")"
	pkg="./$(dirname "$file")"
	for attempt in 1 2; do
		echo "== $pkg $name ($FUZZTIME)"
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"; then
			break
		fi
		if [ "$attempt" = 1 ] && deadline_flake "$log"; then
			echo "== $name: the fuzz coordinator's deadline race (go.dev/issue/75804), no failing input; running it once more"
			continue
		fi
		status=1
		break
	done
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sort)
exit $status
