/**
 * The dashboard's memory: the last fleet view, refreshed at most once per
 * interval however many browsers poll (concurrent requests share one pass),
 * the usage history, and what the last "reconcile now" did.
 */
import { messageOf } from '../core/errors.js';
import type { FleetView } from './fleet-view.js';
import { UsageHistory } from './usage-history.js';

export interface ReconcileOutcome {
  at: string;
  passId: string;
  added: number;
  revoked: number;
  errors: string[];
}

export interface FleetStateOptions {
  load: () => Promise<FleetView>;
  /** Applies a pass; absent, the dashboard is read-only. */
  reconcile?: () => Promise<ReconcileOutcome>;
  /** A view younger than this is served as it is. */
  maxAgeMs: number;
  now?: () => number;
  history?: UsageHistory;
}

export class FleetState {
  readonly history: UsageHistory;
  lastReconcile?: ReconcileOutcome;
  private cached?: { view: FleetView; at: number };
  /** The last refresh failed, and when: the view shown is older than it looks. */
  private failure?: { error: unknown; at: number };
  private pending?: Promise<FleetView>;
  private readonly now: () => number;

  constructor(private readonly options: FleetStateOptions) {
    this.now = options.now ?? Date.now;
    this.history = options.history ?? new UsageHistory();
  }

  get canReconcile(): boolean {
    return this.options.reconcile !== undefined;
  }

  /** Why the last refresh failed, in words; undefined when it succeeded. */
  get lastError(): string | undefined {
    const e = this.failure?.error;
    return this.failure ? messageOf(e) : undefined;
  }

  /** When the last refresh failed, as ISO text. */
  get failedAt(): string | undefined {
    return this.failure ? new Date(this.failure.at).toISOString() : undefined;
  }

  /** The last good view, without reading the fleet: for pages that only show when it was read. */
  get latest(): FleetView | undefined {
    return this.cached?.view;
  }

  /**
   * The current view: cached while fresh; a failed refresh falls back to the
   * last good view (or fails, when there is none). A failure counts as a read:
   * the next try waits for the interval too, so browsers polling through an
   * outage do not turn it into a read of every region per request.
   */
  async view(): Promise<FleetView> {
    const last = this.failure ?? this.cached;
    if (last && this.now() - last.at < this.options.maxAgeMs) {
      if (this.cached) return this.cached.view;
      throw this.failure?.error;
    }
    try {
      return await this.refresh();
    } catch (e) {
      if (!this.cached) throw e;
      return this.cached.view;
    }
  }

  /** Reads the fleet now (joining a read already under way). */
  refresh(): Promise<FleetView> {
    this.pending ??= this.options
      .load()
      .then((view) => {
        const at = this.now();
        this.cached = { view, at };
        this.failure = undefined;
        this.history.record(at, view.plan.capacity);
        return view;
      })
      .catch((e: unknown) => {
        this.failure = { error: e, at: this.now() };
        throw e;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** Runs "reconcile now", then reads the fleet again so every page shows the result. */
  async reconcile(): Promise<ReconcileOutcome> {
    if (!this.options.reconcile) throw new Error('this dashboard is read-only');
    const outcome = await this.options.reconcile();
    this.lastReconcile = outcome;
    this.cached = undefined;
    await this.refresh().catch(() => undefined);
    return outcome;
  }
}
