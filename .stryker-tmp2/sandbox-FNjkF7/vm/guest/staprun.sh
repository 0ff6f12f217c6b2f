#!/bin/sh
# The guest's child (installed as staprun and stapbpf) in the test VM and in
# tests on the virtio stand-in: a probe module's stand-in that needs no
# kernel. It prints its argv and a line to stderr, then either prints a file
# (module argument cat=FILE) or ticks every 50 ms, ticks=N times (default:
# until SIGHUP), exiting with status=N; SIGHUP prints an end-probe line and
# exits 0. With STAPFLOW_CHILD_PIDDIR set, it leaves its pid there.
ticks=-1 status=0 file=
for a in "$@"; do
  case $a in
    ticks=*) ticks=${a#ticks=} ;;
    status=*) status=${a#status=} ;;
    cat=*) file=${a#cat=} ;;
  esac
done
[ -n "$STAPFLOW_CHILD_PIDDIR" ] && echo $$ > "$STAPFLOW_CHILD_PIDDIR/$$"
echo "child args: $0 $*"
echo "to stderr" >&2
[ -n "$file" ] && exec cat "$file"
trap 'echo "end probe: bye"; exit 0' HUP
i=0
while [ "$ticks" -lt 0 ] || [ $i -lt "$ticks" ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done
exit "$status"
