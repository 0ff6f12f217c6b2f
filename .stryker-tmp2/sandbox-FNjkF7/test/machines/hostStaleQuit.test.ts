/**
 * The host's recovery where a real virtio port leaves the guest unable to
 * tell: a dead session still running in the guest reads our hello as its own
 * input, then ends with `quit`. That stale `quit` before our hello's reply
 * makes the host say its hello again, for the guest that comes next, with a
 * fresh reply bound; stale data frames (that session still streaming) make it
 * never send that session a `quit` (a guest that read our hello would end our own session); on channels
 * with a fresh peer a `quit` is just a skipped line. And where nothing shows it (an exiting guest's port
 * discarding our unread hello), the hello is said again every `helloRetryMs` on a stale channel.
 */
// @ts-nocheck


import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { hostEventOf, hostSession } from '../../machines/hostSession.js';
import { classifyReply } from '../../protocol/replyDecoder.js';

/** A line as the reply decoder reports it to the machine. */
const lineEvent = (text: string) => hostEventOf({ type: 'line', text, reply: classifyReply(text) })!;

function session(staleChannel: boolean, replyTimeoutMs = 60_000, maxStaleBytes?: number, helloRetryMs = 60_000) {
  const actor = createActor(hostSession, {
    input: {
      release: '4.8',
      remote: 'unix:/port.sock',
      wantData: true,
      uploads: [{ name: 'stap_1.ko', size: 3 }],
      runArgs: () => ['./stap_1.ko'],
      sendFile: async () => undefined,
      replyTimeoutMs,
      nonce: 'N1',
      askStatus: true,
      staleChannel,
      helloRetryMs,
      ...(maxStaleBytes === undefined ? {} : { maxStaleBytes }),
    },
  });
  const sent: string[] = [];
  actor.on('send', (e) => sent.push(Buffer.from(e.bytes).toString('latin1')));
  actor.start();
  const line = (text: string) => actor.send(lineEvent(text));
  return { actor, sent, line };
}

describe('host handshake on a stale channel: a dead session ending with quit', () => {
  it('sends the hello again after a stale quit, then takes the next guest’s answer', () => {
    const { actor, sent, line } = session(true);
    expect(sent).toEqual(['stap 4.8 nonce=N1\n']);
    line('data stdout 7');
    line('tick 41');
    // A dead session's frames alone send nothing: a quit could end our own session if a guest read our hello.
    line('data stdout 7');
    line('tick 42');
    expect(sent).toEqual(['stap 4.8 nonce=N1\n']);
    line('quit');
    expect(sent).toEqual(['stap 4.8 nonce=N1\n', 'stap 4.8 nonce=N1\n']);
    line('stapsh 4.8 x86_64 6.1.0 nonce=N1');
    expect(sent.at(-1)).toBe('option data\n');
    expect(actor.getSnapshot().context.staleBytes).toBe('data stdout 7\ntick 41\ndata stdout 7\ntick 42\nquit\n'.length);
    actor.stop();
  });

  it('a quit the decoder already knows as quit (GUEST.QUIT) does the same', () => {
    const { actor, sent } = session(true);
    actor.send(lineEvent('data stdout 7'));
    actor.send(lineEvent('tick 3'));
    actor.send({ type: 'GUEST.STATUS', status: { kind: 'exited', code: 0 } });
    actor.send({ type: 'GUEST.QUIT' });
    expect(sent).toEqual(['stap 4.8 nonce=N1\n', 'stap 4.8 nonce=N1\n']);
    actor.send(lineEvent('stapsh 4.8 x86_64 6.1.0 nonce=N1'));
    expect(sent.at(-1)).toBe('option data\n');
    actor.stop();
  });

  it('after a stale quit the hello is said again every helloRetryMs until answered; extra answers are skipped before the OK', async () => {
    const { actor, sent, line } = session(true, 60_000, undefined, 50);
    line('quit');
    await new Promise((r) => setTimeout(r, 130));
    const hellos = sent.filter((x) => x === 'stap 4.8 nonce=N1\n').length;
    expect(hellos).toBeGreaterThanOrEqual(3);
    line('stapsh 4.8 x86_64 6.1.0 nonce=N1');
    expect(sent.at(-1)).toBe('option data\n');
    line('stapsh 4.8 x86_64 6.1.0 nonce=N1');
    line('stapsh 4.8 x86_64 6.1.0 nonce=N1');
    line('OK');
    expect(actor.getSnapshot().value).not.toBe('failed');
    expect(sent.at(-1)).toBe('option status\n');
    await new Promise((r) => setTimeout(r, 120));
    expect(sent.filter((x) => x === 'stap 4.8 nonce=N1\n').length).toBe(hellos); // no more after the answer
    actor.stop();
  });

  it('restarts the reply bound with the new hello', async () => {
    const { actor, sent, line } = session(true, 300);
    await new Promise((r) => setTimeout(r, 200));
    line('quit');
    await new Promise((r) => setTimeout(r, 200));
    // 400 ms after the first hello, 200 ms after the second: still waiting.
    expect(actor.getSnapshot().status).toBe('active');
    expect(sent).toHaveLength(2);
    line('stapsh 4.8 x86_64 6.1.0 nonce=N1');
    expect(actor.getSnapshot().value).toBe('option');
    actor.stop();
  });

  it('is bounded by the stale budget', () => {
    const { actor, sent, line } = session(true, 60_000, 100);
    for (let i = 0; i < 1000 && actor.getSnapshot().status === 'active'; i++) {
      if (i % 2) line('quit');
      else actor.send({ type: 'GUEST.QUIT' });
    }
    const out = actor.getSnapshot();
    expect(out.status).toBe('done');
    expect(out.output).toMatchObject({ ok: false, error: expect.stringContaining("remote 'unix:/port.sock'") });
    expect(sent).toHaveLength(1 + Math.floor(100 / 5));
  });

  it('on a fresh channel (a spawned guest, ssh) stale frames and quit are skipped lines, nothing is sent', () => {
    const { actor, sent, line } = session(false);
    line('data stdout 3');
    line('quit');
    expect(sent).toEqual(['stap 4.8 nonce=N1\n']);
    line('stapsh 4.8 x86_64 6.1.0 nonce=N1');
    expect(sent.at(-1)).toBe('option data\n');
    actor.stop();
  });
});

describe('host handshake on a stale channel: a hello nobody answers', () => {
  function quiet(staleChannel: boolean) {
    const clock = new SimulatedClock();
    const actor = createActor(hostSession, {
      clock,
      input: {
        release: '4.8',
        remote: 'unix:/port.sock',
        wantData: true,
        uploads: [{ name: 'stap_1.ko', size: 3 }],
        runArgs: () => ['./stap_1.ko'],
        sendFile: async () => undefined,
        replyTimeoutMs: 10_000,
        nonce: 'N1',
        staleChannel,
        helloRetryMs: 2_000,
      },
    });
    const sent: string[] = [];
    actor.on('send', (e) => sent.push(Buffer.from(e.bytes).toString('latin1')));
    actor.start();
    // SimulatedClock fires what is due at the end of one increment: step so re-armed timers fire in time.
    const advance = (ms: number) => {
      for (let left = ms; left > 0; left -= 100) clock.increment(Math.min(100, left));
    };
    return { actor, sent, clock: { increment: advance } };
  }

  it('says it again every helloRetryMs until the reply bound, then fails naming the remote', () => {
    const { actor, sent, clock } = quiet(true);
    clock.increment(1_999);
    expect(sent).toEqual(['stap 4.8 nonce=N1\n']);
    clock.increment(1);
    expect(sent).toEqual(['stap 4.8 nonce=N1\n', 'stap 4.8 nonce=N1\n']);
    clock.increment(6_000);
    expect(sent.length).toBe(5);
    clock.increment(2_000);
    const snap = actor.getSnapshot();
    expect(snap.status).toBe('done');
    expect(snap.output).toMatchObject({ ok: false, error: expect.stringContaining("no reply to the hello within 10000 ms on remote 'unix:/port.sock'") });
    // The reply bound ended it: no hello after it.
    expect(sent.length).toBe(5);
  });

  it('the answer to the first hello is taken; the extra answers are skipped before the OK to the first option', () => {
    const { actor, sent, clock } = quiet(true);
    clock.increment(4_000);
    expect(sent.length).toBe(3);
    for (let i = 0; i < 3; i++) actor.send(lineEvent('stapsh 4.8 x86_64 6.1.0 nonce=N1'));
    expect(sent.at(-1)).toBe('option data\n');
    clock.increment(10_000 - 1);
    actor.send(lineEvent('OK'));
    expect(actor.getSnapshot().value).toBe('upload');
    expect(sent.filter((s) => s.startsWith('stap ')).length).toBe(3);
    actor.stop();
  });

  it('a channel with a fresh peer (a process started for the session) says it once', () => {
    const { actor, sent, clock } = quiet(false);
    clock.increment(9_999);
    expect(sent).toEqual(['stap 4.8 nonce=N1\n']);
    actor.stop();
  });
});
