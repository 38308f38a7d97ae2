# Helpers of the record_*.sh tests (sourced after lib.sh).

# accounted FILE MADE: recorded calls + dropped records == the calls the program made (an exit
# without a status stands for the agent's own exit record that was dropped).
accounted() {
  local got
  got=$("$WSTRACE" show --json "$1" | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "drops":
        n += e["args"]["dropped"]
    elif e["event"] == "process_exit":
        n -= "exit_code" not in e["args"]
    elif e["event"] not in ("process_start", "thread_name"):
        n += 1
print(n)')
  checks=$((checks + 1))
  [ "$got" -eq "$2" ] || fail "$1: $got calls recorded or dropped, the program made $2"
}
