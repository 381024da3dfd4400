/**
 * The dashboard's memory: the last fleet view, refreshed at most once per
 * interval however many browsers poll (concurrent requests share one pass),
 * the usage history, and what the last "reconcile now" did.
 */
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
  /** The last refresh failed: the view shown is older than it looks. */
  lastError?: string;
  private cached?: { view: FleetView; at: number };
  private pending?: Promise<FleetView>;
  private readonly now: () => number;

  constructor(private readonly options: FleetStateOptions) {
    this.now = options.now ?? Date.now;
    this.history = options.history ?? new UsageHistory();
  }

  get canReconcile(): boolean {
    return this.options.reconcile !== undefined;
  }

  /** The current view: cached while fresh; a failed refresh falls back to the last good view. */
  async view(): Promise<FleetView> {
    if (this.cached && this.now() - this.cached.at < this.options.maxAgeMs) return this.cached.view;
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
        this.lastError = undefined;
        this.history.record(at, view.plan.capacity);
        return view;
      })
      .catch((e: unknown) => {
        this.lastError = e instanceof Error ? e.message : String(e);
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
