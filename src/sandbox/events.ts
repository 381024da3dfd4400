import type { InstanceStateName } from './world.js';

/** An `EC2 Instance State-change Notification`, in EventBridge's shape. */
export interface StateChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'EC2 Instance State-change Notification';
  source: 'aws.ec2';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: { 'instance-id': string; state: InstanceStateName };
}

/**
 * The sandbox's event stream: every instance state change, numbered, kept in
 * memory up to a bound. Readers ask for events after a sequence number.
 */
export class EventLog {
  private readonly events: { seq: number; event: StateChangeEvent }[] = [];
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly limit = 10_000) {}

  emit(event: Omit<StateChangeEvent, 'version' | 'id' | 'detail-type' | 'source'> & { id: string }): void {
    const full: StateChangeEvent = {
      version: '0',
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
      ...event,
    };
    this.events.push({ seq: ++this.seq, event: full });
    // Trim in chunks, not on every event: a splice per event made launching
    // thousands of instances quadratic once the log was full.
    if (this.events.length > this.limit * 1.25) this.events.splice(0, this.events.length - this.limit);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Events with a sequence number greater than `after`, oldest first. */
  since(after: number): { seq: number; event: StateChangeEvent }[] {
    // Sequence numbers are consecutive, so the position of `after` is computed, not searched.
    const first = this.events[0]?.seq ?? this.seq + 1;
    return this.events.slice(Math.max(0, after + 1 - first));
  }

  get last(): number {
    return this.seq;
  }

  /** Resolves when a new event arrives or after `ms`, for long-polling readers. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(done);
    });
  }

  clear(): void {
    this.events.length = 0;
  }
}
