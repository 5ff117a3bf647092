"""The shell supervisor every sandbox command runs under: a time limit, a file-size cap, and
cleanup of what a command leaves behind (process groups, fork bombs), in shell builtins only."""

KILL_GRACE_S = 2
NO_ROOM, NO_ROOM_EXIT = "OCI runtime exec failed", 126  # the engine could not start a process: no PID left
SWEEP_PIDS = 16  # PIDs lent to the sweep that makes room
# Runs `bash -c "$2"` under `timeout "$1"`, every file it writes capped at $4 KiB. A command
# that outlives its timeout is killed with its process group; what escaped the group (a fork
# bomb's children, say) is then killed by session, in passes. Before and after the command,
# a container holding more than $3 processes (a fork bomb, started with setsid or in the
# background) is frozen at once (SIGSTOP to every process but init and this shell, so nothing
# forks any more), every process but its init, its main process and this shell is killed, and
# the rest goes on. Only shell builtins do the cleanup: it works with no PIDs left.
SUPERVISOR = f"""limit=$1 command=$2 crowd=$3 me=$$
crowded() {{ n=0; for stat in /proc/[0-9]*/stat; do n=$((n+1)); done; [ $n -gt $crowd ]; }}
main_process() {{  # the container's own `sleep infinity`: the first child init started
  main=
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null < "$stat" || continue
    pid=${{stat#/proc/}}; pid=${{pid%/stat}}; rest=${{line#* (}}; comm=${{rest%%) *}}
    set -- ${{line##*) }}
    if [ "$2" = 1 ] && [ "$comm" = sleep ] && {{ [ -z "$main" ] || [ "$pid" -lt "$main" ]; }}; then main=$pid; fi
  done
}}
kill_where() {{  # kill -9, in passes, every process (not init, this shell or the container's sleep) for which $check holds
  main_process
  pass=0
  while [ $pass -lt 40 ]; do
    found=0
    for stat in /proc/[0-9]*/stat; do
      read -r line 2>/dev/null < "$stat" || continue
      pid=${{stat#/proc/}}; pid=${{pid%/stat}}; rest=${{line#* (}}; comm=${{rest%%) *}}
      set -- ${{line##*) }}
      if [ "$pid" = 1 ] || [ "$pid" = "$me" ] || [ "$pid" = "$main" ] || [ "$1" = Z ]; then continue; fi
      "$check" "$@" && kill -9 "$pid" 2>/dev/null && found=1
    done
    [ $found = 0 ] && break
    pass=$((pass+1))
  done
}}
in_session() {{ [ "$4" = "$session" ]; }}
sweep() {{
  echo "agentbench: the sandbox held more than $crowd processes; all but its own were killed" >&2
  kill -STOP -1 2>/dev/null; kill -STOP -1 2>/dev/null; kill -STOP -1 2>/dev/null
  check=: kill_where
  kill -CONT -1 2>/dev/null
  settle
}}
settle() {{  # until init has reaped the killed (a zombie still holds its PID), within bounds
  tries=0
  while [ $tries -lt 2000 ]; do
    zombie=0
    for stat in /proc/[0-9]*/stat; do
      read -r line 2>/dev/null < "$stat" || continue
      set -- ${{line##*) }}
      [ "$1" = Z ] && {{ zombie=1; break; }}
    done
    [ $zombie = 0 ] && return
    tries=$((tries+1))
  done
}}
crowded && sweep
(ulimit -f "$4"; exec timeout -k {KILL_GRACE_S}s "$limit" bash -c "$command")
code=$?
if [ $code -eq 124 ] || [ $code -eq 137 ]; then
  read -r line < /proc/$$/stat; set -- ${{line##*) }}; session=$4
  [ "$session" != 1 ] && check=in_session kill_where
fi
crowded && sweep
exit $code
"""
