import type { RowWrite } from './entityGroupWriter';
import { rangeFilter } from './rowRange';

/*
 * Counts over minute buckets of an index partition, read in time proportional to the minutes, not the rows. Each
 * bucket has a version row (`v|<kind>|<minute>`), upserted in the same entity group transaction as every change to
 * the bucket's rows, so its ETag changes with them; and a rollup row (`r|<kind>|<minute>`) holding the bucket's
 * counts and the version they were counted at. A reader reads the versions, then the rollups: a rollup whose
 * version is current is the bucket's exact count; the other buckets' rows are counted (after the versions were read,
 * so a change made meanwhile makes the new rollup stale, never wrong) and their rollups written for the next reader.
 */

const maxMinute = 99_999_999;
const minutesPerDay = 1440;
const minuteMs = 60_000;
// Minutes this recent are still changing (jobs just submitted run now): counted, not rolled up.
const settleMs = 2 * minuteMs;

export type RollupKind = 'j' | 'o';

/** A minute as index row keys count it: down from the end of time, 8 digits, so newer minutes sort first. */
export function minuteCountdown(at: Date | number): string {
  return String(maxMinute - Math.floor(new Date(at).getTime() / minuteMs)).padStart(8, '0');
}

/** Just past a minute countdown's minute: the first millisecond of the next. */
export function minuteEndMs(countdown: string): number {
  return minuteStartMs(countdown) + minuteMs;
}

/** The first millisecond of a minute countdown's minute. */
export function minuteStartMs(countdown: string): number {
  return (maxMinute - Number(countdown)) * minuteMs;
}

/** The version row a write to a bucket's rows upserts beside them. */
export function versionBump(partitionKey: string, kind: RollupKind, minute: string): RowWrite {
  return { kind: 'upsert', entity: { partitionKey, rowKey: versionRowKey(kind, minute) } };
}

/** The version row of a bucket. */
export function versionRowKey(kind: RollupKind, minute: string): string {
  return `v|${kind}|${minute}`;
}

/** The rollup row of a bucket. */
export function rollupRowKey(kind: RollupKind, minute: string): string {
  return `r|${kind}|${minute}`;
}

/** What a kind of bucket counts, and how its rows are read. */
export interface MinuteCounting<C> {
  kind: RollupKind;
  /** Counts of no rows. */
  empty: () => C;
  /**
   * The counts of the rows of the minutes `[fromMs, toMs)` (minute-aligned but for a window's start), by minute,
   * newest first until the reader's bound: every row of the minutes from `countedFromMs` on is counted (`fromMs`
   * when all were).
   */
  countRows: (fromMs: number, toMs: number) => Promise<CountedRows<C>>;
}

export interface CountedRows<C> {
  byMinute: Map<string, C>;
  countedFromMs: number;
}

/** The index's rows, as the stats read and roll them up. */
export interface IndexRowReader {
  /** The rows `filter` matches, `select`ed (all properties when not), at most `maxRows` (page by page). */
  rows(
    filter: string,
    select: string[] | undefined,
    maxRows: number,
  ): Promise<Array<Record<string, unknown> & { rowKey: string; etag: string }>>;
  /** Written behind, best effort: a rollup not written is counted again. */
  write(partition: string, rows: RowWrite[]): void;
}

/**
 * The counts per minute of one day partition's buckets in `[sinceMs, nowMs]`, by minute countdown (only minutes
 * with something in them); `complete: false` when counting rows stopped at the reader's bound.
 */
export async function countMinutes<C>(
  store: IndexRowReader,
  counting: MinuteCounting<C>,
  partition: string,
  window: { sinceMs: number; nowMs: number; dayStartMs: number },
): Promise<{ byMinute: Map<string, C>; complete: boolean }> {
  const { kind } = counting;
  const first = Math.max(window.dayStartMs, Math.floor(window.sinceMs / minuteMs) * minuteMs);
  const last = Math.min(window.dayStartMs + minutesPerDay * minuteMs, window.nowMs + 1);
  if (first >= last) return { byMinute: new Map(), complete: true };
  // The version and rollup rows of the window's minutes only (newer minutes count lower).
  const rowsOf = (keyOf: (kind: RollupKind, minute: string) => string) =>
    store.rows(
      rangeFilter(partition, {
        from: keyOf(kind, minuteCountdown(last - 1)),
        to: keyOf(kind, minuteCountdown(first - minuteMs)),
      }),
      undefined,
      minutesPerDay,
    );
  const [versions, rollups] = await Promise.all([rowsOf(versionRowKey), rowsOf(rollupRowKey)]);
  // Read versions before counting anything: see the module's note.
  const versionOf = new Map(versions.map((row) => [row.rowKey.slice(4), row.etag]));
  const rollupOf = new Map(rollups.map((row) => [row.rowKey.slice(4), row]));
  const counts = new Map<string, C>();
  const stale: Array<[number, number]> = [];
  for (let start = first; start < last; start += minuteMs) {
    const minute = minuteCountdown(start);
    const rollup = rollupOf.get(minute);
    const current =
      start >= window.sinceMs && rollup !== undefined && rollup['basedOn'] === (versionOf.get(minute) ?? '');
    if (current) {
      const counted = JSON.parse(String(rollup['counts'])) as C;
      if (rollup['empty'] !== true) counts.set(minute, counted);
      continue;
    }
    const run = stale.at(-1);
    if (run && run[1] === start) run[1] = start + minuteMs;
    else stale.push([Math.max(start, window.sinceMs), start + minuteMs]);
  }
  const rolledUp: RowWrite[] = [];
  let complete = true;
  for (const [fromMs, toMs] of stale.reverse()) {
    const counted = await counting.countRows(fromMs, Math.min(toMs, last));
    for (const [minute, minuteCounts] of counted.byMinute) counts.set(minute, minuteCounts);
    // The minutes counted whole are rolled up even when the bound cut the run: the next reading goes on from them.
    const wholeFrom = Math.max(Math.ceil(fromMs / minuteMs) * minuteMs, counted.countedFromMs);
    for (let start = wholeFrom; start + minuteMs <= toMs; start += minuteMs) {
      if (start + minuteMs > window.nowMs - settleMs) break;
      const minute = minuteCountdown(start);
      const minuteCounts = counted.byMinute.get(minute);
      rolledUp.push({
        kind: 'upsert',
        entity: {
          partitionKey: partition,
          rowKey: rollupRowKey(kind, minute),
          basedOn: versionOf.get(minute) ?? '',
          counts: JSON.stringify(minuteCounts ?? counting.empty()),
          ...(minuteCounts === undefined && { empty: true }),
        },
      });
    }
    if (counted.countedFromMs > fromMs) {
      complete = false;
      break;
    }
  }
  store.write(partition, rolledUp);
  return { byMinute: counts, complete };
}
