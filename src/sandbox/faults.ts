// OWNED BY: faults helper. Interface fixed; implementation to be written.
export interface FaultDecision {
  latencyMs?: number;
  drop?: boolean;
  error?: { code: string; message: string; status: number };
}

export class Faults {
  constructor(readonly seed: number) {}
  decide(_action: string, _region: string): FaultDecision | undefined {
    return undefined;
  }
}
