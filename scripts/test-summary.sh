# Sourced by the scripts that run test files on several engines or endpoints and print one summary.
# summary_line NAME WIDTH CODE SECONDS LOG NOT_RUN: one line of that summary ("ok" or "FAILED", the time,
# and the counts from Node's test summary at the end of LOG, or NOT_RUN when LOG has none).

# count NAME LOG: the number after "ℹ NAME" in Node's summary
count() { sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$2" | tail -1; }

summary_line() {
  local name=$1 width=$2 code=$3 seconds=$4 log=$5 not_run=$6 counts status
  if [ -s "$log" ] && [ -n "$(count tests "$log")" ]; then
    counts="$(count pass "$log") passed, $(count fail "$log") failed, $(count skipped "$log") skipped of $(count tests "$log")"
  else
    counts=$not_run
  fi
  if [ "$code" = 0 ]; then status=ok; else status=FAILED; fi
  printf "%-${width}s %-7s %4ss  %s" "$name" "$status" "$seconds" "$counts"
}
