const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * One timer for all of an emulator's deadlines (lock expiry, scheduled messages, time-to-live): it is armed
 * for the earliest deadline any queue reports, and sweeps run at most every `minIntervalMs` so that many
 * close deadlines cost one sweep, not one timer each.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private lastSweep = 0;
  private closed = false;

  constructor(
    private readonly sweep: (now: number) => number | undefined,
    private readonly minIntervalMs = 20,
  ) {}

  /** Makes sure a sweep runs no later than `deadline` (give or take `minIntervalMs`). */
  request(deadline: number): void {
    if (this.closed || deadline >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    const at = Math.max(deadline, this.lastSweep + this.minIntervalMs);
    this.armedFor = deadline;
    // Node fires a longer timeout at once; a far deadline (a TTL of days) is re-armed after an early sweep.
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_TIMEOUT_MS, Math.max(0, at - Date.now())));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    this.lastSweep = now;
    const next = this.sweep(now);
    if (next !== undefined) this.request(next);
  }
}
