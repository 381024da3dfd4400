import { describe, expect, it } from 'vitest';
import { EXTEND_BY_MS, EXTEND_EVERY_MS, START_LIMIT_MS, systemdNotifier } from './systemd-notify.js';

/** A clock the test moves by hand, with the repeating timers the notifier sets on it. */
class FakeClock {
  time = 0;
  private timers: { every: number; next: number; tick: () => void }[] = [];

  every = (ms: number, tick: () => void) => {
    const timer = { every: ms, next: this.time + ms, tick };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((t) => t !== timer));
  };

  now = () => this.time;

  /** Moves to `to` ms, running each timer that falls due on the way, in order. */
  advanceTo(to: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.next <= to).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.time = due.next;
      due.next += due.every;
      due.tick();
    }
    this.time = to;
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** A notifier on a fake clock, and every `systemd-notify` call it made, with when. */
function notifying(limitMs?: number) {
  const clock = new FakeClock();
  const sent: { at: number; args: string[] }[] = [];
  const notifier = systemdNotifier({ send: (args) => sent.push({ at: clock.time, args }), now: clock.now, every: clock.every, limitMs });
  return { clock, sent, notifier };
}

const s = (ms: number) => ms / 1000;

/** When systemd would end the start, given the unit's TimeoutStartSec and the extensions asked for (systemd.service(5), sd_notify(3)). */
function startDeadline(timeoutStartMs: number, sent: { at: number; args: string[] }[]): number {
  let deadline = timeoutStartMs;
  for (const { at, args } of sent) {
    const extend = args.find((a) => a.startsWith('EXTEND_TIMEOUT_USEC='));
    if (extend) deadline = Math.max(deadline, at + Number(extend.slice('EXTEND_TIMEOUT_USEC='.length)) / 1000);
  }
  return deadline;
}

describe('what agent watch tells systemd', () => {
  it('says ready with the first status, then only the status when it changes, asking for no more time when the first attempt is quick', () => {
    const { clock, sent, notifier } = notifying();
    clock.advanceTo(5_000);
    notifier.status({ admitted: false, text: 'not admitted yet, trying again every poll: target api refused' });
    clock.advanceTo(600_000);
    notifier.status({ admitted: true, text: 'admitted by api (203.0.113.7)' });
    expect(sent).toEqual([
      { at: 5_000, args: ['--ready', '--status=not admitted yet, trying again every poll: target api refused'] },
      { at: 600_000, args: ['--status=admitted by api (203.0.113.7)'] },
    ]);
    expect(clock.pending).toBe(0);
  });

  it('asks for more time every minute while a slow first attempt runs, saying it is still registering, so systemd does not end a start that is progressing', () => {
    const { clock, sent, notifier } = notifying();
    clock.advanceTo(250_000);
    expect(sent).toEqual(
      [60_000, 120_000, 180_000, 240_000].map((at) => ({
        at,
        args: [`--status=registering: the first attempt is still running after ${s(at)} s`, `EXTEND_TIMEOUT_USEC=${EXTEND_BY_MS * 1000}`],
      })),
    );
    // The unit's TimeoutStartSec=180 has passed; each extension reaches past the next one.
    expect(startDeadline(180_000, sent)).toBe(240_000 + EXTEND_BY_MS);
    expect(EXTEND_BY_MS).toBeGreaterThan(EXTEND_EVERY_MS);

    notifier.status({ admitted: true, text: 'admitted by api (203.0.113.7)' });
    clock.advanceTo(3_600_000);
    expect(sent.slice(4)).toEqual([{ at: 250_000, args: ['--ready', '--status=admitted by api (203.0.113.7)'] }]);
    expect(clock.pending).toBe(0);
  });

  it('stops asking for more time once the start has lasted its limit, so that a first attempt that hangs still fails the start', () => {
    const { clock, sent } = notifying();
    clock.advanceTo(4 * START_LIMIT_MS);
    expect(startDeadline(180_000, sent)).toBe(START_LIMIT_MS);
    const last = sent.at(-1)!;
    expect(last.at).toBe(START_LIMIT_MS);
    expect(last.args).toEqual([`--status=registering: the first attempt is still running after ${s(START_LIMIT_MS)} s; no longer extending the start timeout`]);
    expect(sent.filter((m) => m.args.some((a) => a.startsWith('EXTEND_TIMEOUT_USEC=')))).toHaveLength(START_LIMIT_MS / EXTEND_EVERY_MS - 1);
    expect(clock.pending).toBe(0);
  });

  it.each([
    [150_000, 180_000],
    [200_000, 200_000],
  ])('with a limit of %d ms, a start that never gets ready ends at %d ms under TimeoutStartSec=180', (limitMs, end) => {
    const { clock, sent } = notifying(limitMs);
    clock.advanceTo(1_000_000);
    expect(startDeadline(180_000, sent)).toBe(end);
  });

  it('stops asking for more time when told the watch is stopping', () => {
    const { clock, sent, notifier } = notifying();
    clock.advanceTo(61_000);
    notifier.stop();
    clock.advanceTo(600_000);
    expect(sent.map((m) => m.at)).toEqual([60_000]);
    expect(clock.pending).toBe(0);
  });
});
