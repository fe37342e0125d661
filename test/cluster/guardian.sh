#!/usr/bin/env bash
# Guardian of one harness run directory: when the owning process is gone (a test run that
# crashed or was interrupted before stop()), kill every process recorded in DIR/pids and
# remove DIR. A normal stop() kills this guardian first.
# Usage: guardian.sh OWNER_PID DIR
owner=$1 dir=$2
trap '' INT HUP
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
[[ -f $dir/pids ]] || exit 0
mapfile -t pids <"$dir/pids"
((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  ((alive)) || break
  sleep 1
done
((${#pids[@]})) && kill -KILL "${pids[@]}" 2>/dev/null
rm -rf "$dir"
