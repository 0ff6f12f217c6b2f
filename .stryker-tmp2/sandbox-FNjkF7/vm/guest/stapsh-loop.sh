#!/bin/sh
# What stapsh@.service's Restart=always does for one port, where there is no
# systemd (the test VM's init, and tests on the virtio stand-in): start
# `STAPSH... -l PORT` again each time it exits, RESTART_SEC later.
# usage: stapsh-loop PORT PIDFILE RESTART_SEC STAPSH [ARGS...]
# PIDFILE holds the running stapsh's pid; PIDFILE.exits gets a line per exit.
port=$1 pidfile=$2 restart=$3
shift 3
while :; do
  "$@" -l "$port" &
  echo $! > "$pidfile"
  wait $!
  status=$?
  echo "$status" >> "$pidfile.exits"
  echo "stapsh-loop: stapsh on $port exited $status"
  sleep "$restart"
done
