/**
 * The dashboard's memory: the last fleet view, read again at most once per
 * interval however many browsers poll (one read at a time, which every
 * request shares), the usage history, and what the last "reconcile now" did.
 *
 * A view older than the interval is still served at once while the next read
 * runs in the background (stale-while-revalidate): a read of every region
 * takes seconds against AWS, and no page should wait for it but the very
 * first. A view's age counts from when its read began, the moment the data
 * describes (the pass's start, which the pages show as "read …"), so a read
 * begins again once the data is one interval old, however long reading took.
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
  /** The last good view, and when its read began. */
  private cached?: { view: FleetView; at: number };
  /** The last refresh failed, and when: the view shown is older than it looks. */
  private failure?: { error: unknown; at: number };
  private pending?: Promise<FleetView>;
  /** When the read of each view began, by view. */
  private readonly began = new WeakMap<FleetView, number>();
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

  /** How long ago the read of this view began, in ms: the age of what a page shows, even when a newer read has just landed. */
  ageOf(view: FleetView): number {
    return this.now() - (this.began.get(view) ?? Date.parse(view.at));
  }

  /** A read is under way. */
  get reading(): boolean {
    return this.pending !== undefined;
  }

  /**
   * The current view. The last good view is served as it is, and once it is
   * older than the interval a read starts in the background for the requests
   * after this one. Only without any good view does a request wait for a
   * read. A failure counts as a read: the next try waits for the interval
   * too, so browsers polling through an outage do not turn it into a read of
   * every region per request; meanwhile the last good view is served (the
   * pages say that the refresh failed), or, when there is none, the failure.
   */
  async view(): Promise<FleetView> {
    const due = this.due();
    if (this.cached) {
      if (due) this.refresh().catch(() => undefined);
      return this.cached.view;
    }
    if (!due) throw this.failure?.error;
    return this.refresh();
  }

  /** Whether the data (or the last failure) is an interval old, so a read is due. */
  private due(): boolean {
    const last = this.failure ?? this.cached;
    return !last || this.now() - last.at >= this.options.maxAgeMs;
  }

  /** Reads the fleet now (joining a read already under way). */
  refresh(): Promise<FleetView> {
    if (this.pending) return this.pending;
    const began = this.now();
    this.pending = this.options
      .load()
      .then((view) => {
        this.cached = { view, at: began };
        this.began.set(view, began);
        this.failure = undefined;
        this.history.record(began, view.plan.capacity);
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

  /** Resolves once no read is under way (one that fails included). */
  async settled(): Promise<void> {
    while (this.pending) await this.pending.catch(() => undefined);
  }

  /**
   * Runs "reconcile now", then reads the fleet again so every page shows the
   * result. A read that began before the pass's changes were made cannot show
   * them: it is let finish, and a new one is made.
   */
  async reconcile(): Promise<ReconcileOutcome> {
    if (!this.options.reconcile) throw new Error('this dashboard is read-only');
    const outcome = await this.options.reconcile();
    this.lastReconcile = outcome;
    await this.settled();
    await this.refresh().catch(() => undefined);
    return outcome;
  }
}
