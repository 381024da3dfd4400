/**
 * One answer read per turn of the event loop. A pass lists many regions at
 * once, and their answers often arrive together: read back to back, a
 * dozen pages of a thousand instances hold the process for hundreds of
 * milliseconds, and whatever else it serves (the dashboard's pages, the
 * daemon's `/healthz` and `/metrics`) waits that long. Taking turns costs
 * the pass nothing, as the answers are read on one thread either way, and
 * bounds the wait to one answer.
 */
export class ParseTurns {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  /** Runs `read` when no other read is running, in a turn of the event loop of its own. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    await this.take();
    try {
      return await read();
    } finally {
      this.pass();
    }
  }

  private take(): Promise<void> {
    return new Promise((resolve) => {
      if (this.busy) {
        this.waiting.push(resolve);
        return;
      }
      this.busy = true;
      // Whatever the event loop already holds (a request to serve, other answers' bytes) goes first.
      setImmediate(resolve);
    });
  }

  private pass(): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.busy = false;
      return;
    }
    // Scheduled from this turn, so it runs in the next one: I/O waiting in between is served first.
    setImmediate(next);
  }
}
