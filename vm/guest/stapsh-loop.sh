#!/bin/sh
# What stapsh@.service's Restart=always does for one port, where there is no
# systemd (the test VM's init, and tests on the virtio stand-in): start
# `STAPSH... -l PORT` again each time it exits, RESTART_SEC later.
# usage: stapsh-loop PORT PIDFILE RESTART_SEC STAPSH [ARGS...]
port=$1 pidfile=$2 restart=$3
shift 3
while :; do
  "$@" -l "$port" &
  echo $! > "$pidfile"
  wait $!
  echo "stapsh-loop: stapsh on $port exited $?"
  sleep "$restart"
done
