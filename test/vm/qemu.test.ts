import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { readyRelease } from '../../vm/qemu.js';

const LINE = 'stapflow-vm: ready 6.1.0-57-cloud-amd64 org.systemtap.stapsh.0 \n';

it('takes the release only from a whole ready line', () => {
  expect(readyRelease(`boot messages\n${LINE}# `)).toBe('6.1.0-57-cloud-amd64');
  expect(readyRelease('stapflow-vm: ready 6')).toBeNull();
  expect(readyRelease('stapflow-vm: ready 6.1.0-57-cloud-amd64 org.systemtap')).toBeNull();
});

// The console arrives in arbitrary chunks: at every prefix the answer is either nothing yet or the whole release.
test.prop([fc.integer({ min: 0, max: LINE.length })])('never a cut release, whatever prefix has arrived', (n) => {
  const seen = readyRelease(`[    1.0] virtio\n${LINE.slice(0, n)}`);
  expect(seen === null || seen === '6.1.0-57-cloud-amd64').toBe(true);
  expect(seen === null).toBe(n < LINE.length);
});
