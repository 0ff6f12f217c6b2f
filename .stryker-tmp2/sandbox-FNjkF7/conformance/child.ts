/**
 * The scripted child the conformance scenarios expect the guest to run as
 * `staprun` (`stapsh-conformance --print-child`). Like the child of
 * test/real/differential.test.ts, except that the HUP trap is set before
 * anything is printed, so a hang-up after `to stderr` is always caught.
 */
// @ts-nocheck


export const CHILD_SCRIPT = `#!/bin/sh
# stapsh-conformance child: install as the guest's staprun.
trap 'echo "got HUP"; exit 7' HUP
sleep 0.05
echo "args: $0 $*"
echo "cwd: $(basename "$(pwd)" | cut -c1-7)"
ls
echo "to stderr" >&2
case "$1" in
  exit3) sleep 0.2; exit 3;;
  kill9) sleep 0.2; kill -9 $$;;
esac
while :; do sleep 0.05; done
`;
