/** The machine a benchmark ran on: figures mean little without it. */
import { cpus, freemem, loadavg, release, totalmem, type } from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  freeMemoryGb: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages. */
  loadStart: number[];
  loadEnd?: number[];
  /** The 1-minute load average sampled every 10 s while the benchmark ran. */
  loadDuring?: { samples: number; mean: number; max: number };
  date: string;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    freeMemoryGb: round(freemem() / 2 ** 30, 1),
    node: process.version,
    os: `${type()} ${release()} ${process.arch}`,
    loadStart: loadavg().map((x) => round(x)),
    date: new Date().toISOString(),
  };
}

export function currentLoad(): number[] {
  return loadavg().map((x) => round(x));
}

/** Samples the 1-minute load average every 10 s until stopped: how busy the machine was during the run, not just at its ends. */
export function sampleLoad(): () => { samples: number; mean: number; max: number } {
  const samples: number[] = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 10_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    samples.push(loadavg()[0]!);
    return { samples: samples.length, mean: round(samples.reduce((a, b) => a + b, 0) / samples.length), max: round(Math.max(...samples)) };
  };
}
