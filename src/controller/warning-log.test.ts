import { describe, expect, it } from 'vitest';
import type { Plan, PlannedRevoke, PlannedRule } from '../core/model.js';
import type { ControllerPassResult } from './pass.js';
import { logPassWarnings, WarningLog } from './warning-log.js';

describe('a warning log', () => {
  it('raises a warning the first time a pass gives it, and not again while passes keep giving it', () => {
    const log = new WarningLog();
    expect(log.update(['a', 'b'])).toEqual({ raised: ['a', 'b'], cleared: [] });
    expect(log.update(['b', 'a'])).toEqual({ raised: [], cleared: [] });
    expect(log.update(['a', 'b', 'c'])).toEqual({ raised: ['c'], cleared: [] });
  });

  it('clears a warning once when a pass no longer gives it, and raises it again should it come back', () => {
    const log = new WarningLog();
    log.update(['a', 'b']);
    expect(log.update(['b'])).toEqual({ raised: [], cleared: ['a'] });
    expect(log.update(['b'])).toEqual({ raised: [], cleared: [] });
    expect(log.update([])).toEqual({ raised: [], cleared: ['b'] });
    expect(log.update(['a'])).toEqual({ raised: ['a'], cleared: [] });
  });

  it('counts a warning a pass gives twice once', () => {
    expect(new WarningLog().update(['a', 'a'])).toEqual({ raised: ['a'], cleared: [] });
  });

  it('lets a pass that saw only part of the world raise warnings but clear none: its silence proves nothing', () => {
    const log = new WarningLog();
    log.update(['a']);
    expect(log.update(['b'], { whole: false })).toEqual({ raised: ['b'], cleared: [] });
    expect(log.update(['b'])).toEqual({ raised: [], cleared: ['a'] });
  });
});

/** What a pass's warnings come from: its plans, EC2's answers that its reads had not caught up with, and its listing. */
function pass(over: { warnings?: string[]; inventoryWarnings?: string[]; alreadyThere?: PlannedRule[]; alreadyGone?: PlannedRevoke[]; scope?: Plan['scope'] }): ControllerPassResult {
  const plan = { scope: over.scope ?? { kind: 'all' }, warnings: over.warnings ?? [] } as unknown as Plan;
  return {
    passId: 'p-1',
    plan,
    lastPlan: plan,
    alreadyThere: over.alreadyThere ?? [],
    alreadyGone: over.alreadyGone ?? [],
    inventory: { members: [], regionInventory: {}, regions: [], ...(over.inventoryWarnings ? { warnings: over.inventoryWarnings } : {}) },
  } as unknown as ControllerPassResult;
}

const gone = { ruleId: 'sgr-1', groupId: 'sg-1' } as PlannedRevoke;

/** A logger that keeps its lines. */
function lines() {
  const out: { level: 'warn' | 'info'; fields: Record<string, unknown>; msg: string }[] = [];
  return {
    out,
    log: {
      warn: (fields: Record<string, unknown>, msg: string) => void out.push({ level: 'warn', fields, msg }),
      info: (fields: Record<string, unknown>, msg: string) => void out.push({ level: 'info', fields, msg }),
    },
  };
}

describe("logging a controller pass's warnings", () => {
  const leftAlone = 'rule sgr-9 in sg-1 is managed by "prod" for unknown target "old-api"; it is left alone';
  const unlisted = 'target "api" selects instances in af-south-1, which no pass lists: it is not enabled for the account';

  it('logs a plan or listing warning at warn when it first appears, says nothing while it persists, and logs once at info when it is gone', () => {
    const { out, log } = lines();
    const seen = new WarningLog();
    logPassWarnings(log, seen, pass({ warnings: [leftAlone], inventoryWarnings: [unlisted] }), { passId: 'p-1' });
    logPassWarnings(log, seen, pass({ warnings: [leftAlone], inventoryWarnings: [unlisted] }), { passId: 'p-2' });
    logPassWarnings(log, seen, pass({ inventoryWarnings: [unlisted] }), { passId: 'p-3' });
    logPassWarnings(log, seen, pass({ inventoryWarnings: [unlisted] }), { passId: 'p-4' });
    expect(out).toEqual([
      { level: 'warn', fields: { passId: 'p-1' }, msg: leftAlone },
      { level: 'warn', fields: { passId: 'p-1' }, msg: unlisted },
      { level: 'info', fields: { passId: 'p-3', warning: leftAlone }, msg: `warning cleared: ${leftAlone}` },
    ]);
  });

  it('logs what the reads had not caught up with at every pass that met it, once, and never as cleared', () => {
    const { out, log } = lines();
    const seen = new WarningLog();
    logPassWarnings(log, seen, pass({ alreadyGone: [gone] }), { passId: 'p-1' });
    logPassWarnings(log, seen, pass({ alreadyGone: [gone] }), { passId: 'p-2' });
    logPassWarnings(log, seen, pass({}), { passId: 'p-3' });
    const lag = expect.stringMatching(/^1 rule\(s\) AWS says are gone were still listed .*: sgr-1 in sg-1$/) as unknown;
    expect(out).toEqual([
      { level: 'warn', fields: { passId: 'p-1' }, msg: lag },
      { level: 'warn', fields: { passId: 'p-2' }, msg: lag },
    ]);
  });

  it("clears nothing after a pass scoped to one instance, which does not look at every rule, but logs what it newly warns of", () => {
    const { out, log } = lines();
    const seen = new WarningLog();
    const unnamed = 'rule sgr-8 in sg-1 names no instance (no sgsync:instance tag, no sgsync description); it is left alone';
    logPassWarnings(log, seen, pass({ warnings: [unnamed] }), { passId: 'p-1' });
    logPassWarnings(log, seen, pass({ warnings: [leftAlone], scope: { kind: 'instance', instanceId: 'i-1' } }), { passId: 'p-2' });
    logPassWarnings(log, seen, pass({ warnings: [unnamed, leftAlone] }), { passId: 'p-3' });
    expect(out.map((l) => [l.level, l.fields.passId, l.msg])).toEqual([
      ['warn', 'p-1', unnamed],
      ['warn', 'p-2', leftAlone],
    ]);
  });
});
