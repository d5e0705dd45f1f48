import { RestError } from '@azure/core-rest-pipeline';
import type { FilterExpression, KeyRange, PropertyBounds } from './odataFilter';
import { decideForRun, keyRange, matches, parseFilter } from './odataFilter';

export type { PropertyBounds } from './odataFilter';

/** The kinds of request counted, one per HTTP request the SDK would send. */
export type RequestKind =
  | 'createTable'
  | 'createEntity'
  | 'upsertEntity'
  | 'updateEntity'
  | 'deleteEntity'
  | 'getEntity'
  | 'query'
  | 'submitTransaction';

export interface Cost {
  /** HTTP requests: one per call, one per page of a query, one per transaction. */
  requests: number;
  /** Rows the service examined: a point read 1, a query every row it read, matched or not. */
  entitiesRead: number;
  /** Entities inserted, changed or deleted by requests that succeeded. */
  entitiesWritten: number;
}

export interface CostSnapshot extends Cost {
  byKind: Partial<Record<RequestKind, Cost>>;
  /** Queries by their filter (`''`: none), to tell which one read what. */
  byFilter: Record<string, Cost>;
}

export interface CostModelOptions {
  /**
   * Rows one query request examines at most before it ends its page with a continuation token: the service's
   * five-second limit, as a budget of rows read. 1,000 by default, so a scan costs one request per 1,000 rows read,
   * as the estimate (30 million entities, 30,000 requests) assumes.
   */
  rowsPerRequest?: number;
  /**
   * Ends a page where the scan enters another partition after having read a row in this one (Microsoft documents
   * that a query may return a continuation token at a partition boundary): the worst case for the caller's paging.
   * Off by default; a scan of many small partitions then costs a request per partition read.
   */
  endPagesAtPartitionBoundaries?: boolean;
  /** The clock for Timestamps and ETags. */
  now?: () => Date;
}

/** Properties as the SDK takes and returns them (Date for Edm.DateTime, Buffer for Edm.Binary, bigint for Int64). */
export type Properties = Record<string, unknown>;

/** The `[partitionKey, rowKey]` of a row. */
export type RowKeys = readonly [string, string];

/** Rows generated on demand by index, in strictly increasing key order. */
export interface SyntheticRows {
  count: number;
  keyAt(index: number): RowKeys;
  /** The row's properties; a `timestamp` Date among them is its Timestamp (else the time it was seeded). */
  entityAt(index: number): Properties;
  /**
   * Optional: bounds every row's property values lie in (`null`: no row has the property), by filter name
   * (`Timestamp`, `RowKey`, `status`…). A query skips a run of rows its filter cannot match without generating
   * them, counting them as read all the same. Bounds that are wrong give wrong answers.
   */
  bounds?: Record<string, PropertyBounds>;
}

interface StoredEntity {
  partitionKey: string;
  rowKey: string;
  /** As the service writes it: seven decimals. */
  timestamp: string;
  etag: string;
  properties: Properties;
}

interface Segment extends SyntheticRows {
  first: RowKeys;
  last: RowKeys;
  timestamp: string;
}

interface OverlayEntry {
  partitionKey: string;
  rowKey: string;
  /** Undefined: deleted (a synthetic row hidden). */
  entity: StoredEntity | undefined;
}

/** Where a scan stands: the next segment row and the next overlay key. */
interface Cursor {
  segment: number;
  row: number;
  overlay: number;
}

interface Plan {
  /** The filter as given, for the counts. */
  text: string;
  filter: FilterExpression | undefined;
  start: RowKeys;
  /** Past the last row in range (exclusive), or undefined: to the end of the table. */
  end: RowKeys | undefined;
  /** A range of row keys sought within each partition (a partition range query); undefined otherwise. */
  rowKeys: KeyRange | undefined;
  /** Every row in [start, end) is read (a single partition, or a table scan): runs may be skipped whole. */
  contiguous: boolean;
}

/** An action as `submitTransaction` takes it (the SDK sends a transaction's delete unconditionally). */
type TransactionAction = [
  'create' | 'delete' | 'update' | 'upsert',
  Properties,
  ('Merge' | 'Replace')?,
  { etag?: string }?,
];

const maxPageSize = 1000;
const maxBatchSize = 100;
const maxPropertyBytes = 64 * 1024;
const maxStringLength = 32 * 1024;
const systemProperties = new Set([
  'partitionKey',
  'rowKey',
  'etag',
  'timestamp',
  'odata.etag',
  'odata.metadata',
]);
const selectNames: Record<string, string> = {
  PartitionKey: 'partitionKey',
  RowKey: 'rowKey',
  Timestamp: 'timestamp',
};

function compareKeys(a: RowKeys, b: RowKeys): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** One string per row whose order is the rows' order: keys hold no control characters, so NUL separates them. */
const compositeKey = (partitionKey: string, rowKey: string) => `${partitionKey}\u0000${rowKey}`;

function restError(statusCode: number, code: string, message: string): RestError {
  return new RestError(message, { statusCode, code });
}

function copyValue(value: unknown): unknown {
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) return Buffer.from(value);
  return value;
}

function encodeToken(keys: RowKeys): string {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return Buffer.from(
    JSON.stringify({
      nextPartitionKey: base64(keys[0]),
      ...(keys[1] !== '' && { nextRowKey: base64(keys[1]) }),
    }),
  ).toString('base64');
}

function decodeToken(token: string): RowKeys {
  const parsed = JSON.parse(Buffer.from(token, 'base64').toString()) as {
    nextPartitionKey?: string;
    nextRowKey?: string;
  };
  if (typeof parsed.nextPartitionKey !== 'string')
    throw restError(400, 'InvalidInput', 'The continuation token is not one this table gave.');
  const text = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString();
  return [text(parsed.nextPartitionKey), text(parsed.nextRowKey)];
}

/**
 * A table with Table Storage's semantics, in memory, that counts what each request costs: the subset of
 * `TableClient` that `TableJobStore` uses (cast it: `costModel as unknown as TableClient`).
 *
 * Rows are kept in (PartitionKey, RowKey) order. A query reads as the service plans it: `PartitionKey eq` reads that
 * partition only, a PartitionKey range the partitions in it in key order, anything else every row of the table (a
 * table scan, whatever its RowKey conditions: Microsoft's "Design for querying"). A RowKey range seeks: in a
 * `PartitionKey eq` query only the rows in the range are read; in a PartitionKey range query, each partition costs
 * the rows in the range and the rows a seek lands on outside it (at most two: the partition's first row when it is
 * below the range, the row past its end). Key bounds count only from the filter's top-level `and`; under `or` or
 * `not` they bound nothing, as the service documents. The whole filter is evaluated on each row read, so the plan
 * decides what is counted, never what is returned; every row read is counted, matched or not.
 *
 * A page ends with a continuation token when it holds `maxPageSize` entities (at most 1,000, as the service caps
 * `$top`), when it has read `rowsPerRequest` rows (1,000 by default: the service's five-second limit as a budget of
 * rows, so a sparse scan costs a request per 1,000 rows read, within a partition or across many), or, with
 * `endPagesAtPartitionBoundaries`, where the scan enters another partition after reading in one (the documented
 * worst case, which a caller's paging must survive). The default lets a page span partitions: Azure does for
 * partitions on one server, and the budget already bounds what one request reads.
 *
 * For size, rows may be synthetic (`seedRows`, `seedPartition`, `seedPartitions`): generated by index on demand,
 * found by binary search, with writes and deletes kept in an overlay over them. A scan generates synthetic rows
 * one by one (about 0.4 µs each on this machine: 30 million in about 12 s) and builds only the ones that match;
 * runs whose declared bounds decide the filter false are counted without being generated (30 million in about 3 s).
 *
 * Known limits: no latency, throttling or time limit other than `rowsPerRequest`; keys compare as JavaScript strings
 * (UTF-16 code units); filters compare Timestamp to the millisecond; a comparison of values of different types is
 * false (Azurite matches some, such as a number with a string); no `guid'…'` or binary literals; `measure` counts
 * every request made meanwhile, so measure one operation at a time. Writes are checked as Azure checks them: keys
 * without `/ \ # ?` or control characters and at most 1 KiB, strings to 32 Ki characters and binaries to 64 KiB,
 * 252 properties and 1 MiB an entity (Azurite checks all but the last two).
 */
export class CostModelTable {
  private readonly rowsPerRequest: number;
  private readonly endPagesAtPartitionBoundaries: boolean;
  private readonly now: () => Date;
  private readonly segments: Segment[] = [];
  private readonly overlay = new Map<string, OverlayEntry>();
  /** The overlay's keys in order, once `pending` is merged in; may hold keys since removed from `overlay`. */
  private sortedOverlay: string[] = [];
  private pending: string[] = [];
  private lastTicks = 0n;
  private counts: CostSnapshot = emptySnapshot();

  constructor({ rowsPerRequest = 1000, endPagesAtPartitionBoundaries = false, now }: CostModelOptions = {}) {
    this.rowsPerRequest = rowsPerRequest;
    this.endPagesAtPartitionBoundaries = endPagesAtPartitionBoundaries;
    this.now = now ?? (() => new Date());
  }

  /** The counts since the table was made or last reset. */
  snapshot(): CostSnapshot {
    const copy = (costs: Record<string, Cost>) =>
      Object.fromEntries(Object.entries(costs).map(([name, cost]) => [name, { ...cost }]));
    return { ...this.counts, byKind: copy(this.counts.byKind), byFilter: copy(this.counts.byFilter) };
  }

  reset(): void {
    this.counts = emptySnapshot();
  }

  /** What `action` cost (nothing else may use the table meanwhile: its requests would be counted too). */
  async measure<T>(action: () => Promise<T>): Promise<{ result: T; cost: CostSnapshot }> {
    const before = this.snapshot();
    const result = await action();
    return { result, cost: difference(this.snapshot(), before) };
  }

  /** Rows generated by index, `keyAt` strictly increasing; their key range must not overlap other seeded rows. */
  seedRows(rows: SyntheticRows): void {
    if (rows.count < 1) return;
    const first = rows.keyAt(0);
    const last = rows.keyAt(rows.count - 1);
    if (compareKeys(first, last) > 0) throw new Error('Seeded rows must be in increasing key order.');
    const at = this.segments.findIndex((segment) => compareKeys(segment.first, first) > 0);
    const index = at < 0 ? this.segments.length : at;
    const before = this.segments[index - 1];
    const after = this.segments[index];
    if ((before && compareKeys(before.last, first) >= 0) || (after && compareKeys(last, after.first) >= 0))
      throw new Error('Seeded rows overlap rows seeded before: seed disjoint key ranges.');
    this.segments.splice(index, 0, { ...rows, first, last, timestamp: this.nextTimestamp() });
  }

  /** One partition of `count` rows, row keys increasing with the index. */
  seedPartition(
    partitionKey: string,
    count: number,
    rowKeyAt: (index: number) => string,
    entityAt: (index: number) => Properties,
    bounds?: Record<string, PropertyBounds>,
  ): void {
    this.seedRows({
      count,
      keyAt: (index) => [partitionKey, rowKeyAt(index)],
      entityAt,
      bounds: { PartitionKey: { min: partitionKey, max: partitionKey }, ...bounds },
    });
  }

  /** `count` partitions of one row each (say a record per jobId), partition keys increasing with the index. */
  seedPartitions(
    count: number,
    partitionKeyAt: (index: number) => string,
    rowKey: string,
    entityAt: (index: number) => Properties,
    bounds?: Record<string, PropertyBounds>,
  ): void {
    this.seedRows({
      count,
      keyAt: (index) => [partitionKeyAt(index), rowKey],
      entityAt,
      bounds: { RowKey: { min: rowKey, max: rowKey }, ...bounds },
    });
  }

  /** Rows in the table, synthetic ones included (counts nothing). */
  get size(): number {
    let size = this.segments.reduce((total, segment) => total + segment.count, 0);
    for (const entry of this.overlay.values()) {
      const synthetic = this.findSynthetic([entry.partitionKey, entry.rowKey]) !== undefined;
      size += (entry.entity ? 1 : 0) - (synthetic ? 1 : 0);
    }
    return size;
  }

  // The TableClient subset.

  async createTable(_options?: unknown): Promise<void> {
    await this.nextTurn();
    this.count('createTable', 0, 0);
  }

  async createEntity(entity: Properties, _options?: unknown): Promise<{ etag: string; date: Date }> {
    await this.nextTurn();
    this.count('createEntity', 0, 0);
    const written = this.apply([['create', entity]], false)[0] as StoredEntity;
    this.count('createEntity', 0, 1, false);
    return { etag: written.etag, date: this.now() };
  }

  async upsertEntity(
    entity: Properties,
    mode: 'Merge' | 'Replace' = 'Merge',
    _options?: unknown,
  ): Promise<{ etag: string; date: Date }> {
    await this.nextTurn();
    this.count('upsertEntity', 0, 0);
    const written = this.apply([['upsert', entity, mode]], false)[0] as StoredEntity;
    this.count('upsertEntity', 0, 1, false);
    return { etag: written.etag, date: this.now() };
  }

  async updateEntity(
    entity: Properties,
    mode: 'Merge' | 'Replace' = 'Merge',
    options: { etag?: string } = {},
  ): Promise<{ etag: string; date: Date }> {
    await this.nextTurn();
    this.count('updateEntity', 0, 0);
    const written = this.apply([['update', entity, mode, { etag: options.etag }]], false)[0] as StoredEntity;
    this.count('updateEntity', 0, 1, false);
    return { etag: written.etag, date: this.now() };
  }

  async deleteEntity(
    partitionKey: string,
    rowKey: string,
    options: { etag?: string } = {},
  ): Promise<{ date: Date }> {
    await this.nextTurn();
    this.count('deleteEntity', 0, 0);
    this.apply([['delete', { partitionKey, rowKey }, undefined, { etag: options.etag }]], false);
    this.count('deleteEntity', 0, 1, false);
    return { date: this.now() };
  }

  async getEntity(
    partitionKey: string,
    rowKey: string,
    options: { queryOptions?: { select?: string[] } } = {},
  ): Promise<Properties> {
    await this.nextTurn();
    this.count('getEntity', 1, 0);
    const entity = this.read([partitionKey, rowKey]);
    if (!entity) throw restError(404, 'ResourceNotFound', 'The specified resource does not exist.');
    return result(entity, options.queryOptions?.select);
  }

  listEntities(options: { queryOptions?: { filter?: string; select?: string[] } } = {}) {
    const { filter, select } = options.queryOptions ?? {};
    const pages = (settings: { maxPageSize?: number; continuationToken?: string } = {}) =>
      this.pages(filter, select, settings.maxPageSize, settings.continuationToken);
    const entities = (async function* () {
      for await (const page of pages()) yield* page;
    })();
    return Object.assign(entities, { byPage: pages });
  }

  async submitTransaction(actions: readonly TransactionAction[], _options?: unknown) {
    const partitionKey = actions[0]?.[1].partitionKey;
    if (actions.some(([, entity]) => entity.partitionKey !== partitionKey))
      throw new Error('All operations in a transaction must target the same partitionKey');
    await this.nextTurn();
    this.count('submitTransaction', 0, 0);
    const written = this.apply(actions, true);
    this.count('submitTransaction', 0, actions.length, false);
    const subResponses = actions.map(([kind, entity], index) => ({
      status: 204,
      ...(kind === 'create' && { rowKey: String(entity.rowKey) }),
      ...(kind !== 'delete' && { etag: written[index]?.etag }),
    }));
    return {
      status: 202,
      subResponses,
      getResponseForEntity: (rowKey: string) => subResponses.find((response) => response.rowKey === rowKey),
    };
  }

  // Writes.

  /**
   * Applies writes as one request: all or none. In a transaction, the failing action's index prefixes the error's
   * message and nothing is applied, as the service answers a failed entity group transaction.
   */
  private apply(actions: readonly TransactionAction[], batch: boolean): Array<StoredEntity | undefined> {
    if (batch && (actions.length === 0 || actions.length > maxBatchSize))
      throw restError(400, 'InvalidInput', `A transaction holds 1 to ${maxBatchSize} operations.`);
    const staged = new Map<string, StoredEntity | undefined>();
    const results: Array<StoredEntity | undefined> = [];
    for (const [index, action] of actions.entries()) {
      const fail = (status: number, code: string, message: string) =>
        restError(status, code, batch ? `${index}:${message}` : message);
      const [kind, entity, mode = 'Merge', options] = action;
      const keys = entityKeys(entity, fail);
      const key = compositeKey(...keys);
      if (staged.has(key))
        throw fail(
          400,
          'InvalidDuplicateRow',
          `A command with RowKey '${keys[1]}' is already present in the batch.`,
        );
      const current = this.read(keys);
      const etag = options?.etag ?? '*';
      if (kind === 'create' && current)
        throw fail(409, 'EntityAlreadyExists', 'The specified entity already exists.');
      if ((kind === 'update' || kind === 'delete') && !current)
        throw fail(404, 'ResourceNotFound', 'The specified resource does not exist.');
      if ((kind === 'update' || kind === 'delete') && etag !== '*' && current?.etag !== etag)
        throw fail(
          412,
          'UpdateConditionNotSatisfied',
          'The update condition specified in the request was not satisfied.',
        );
      if (kind === 'delete') {
        staged.set(key, undefined);
        results.push(undefined);
        continue;
      }
      const written = writableProperties(entity, fail);
      const properties = mode === 'Merge' && current ? { ...current.properties, ...written } : written;
      if (entitySize(keys, properties) > 1024 * 1024)
        throw fail(400, 'EntityTooLarge', 'The entity is larger than the maximum allowed size (1MB).');
      if (Object.keys(properties).length > 252)
        throw fail(400, 'TooManyProperties', 'The entity contains more properties than allowed.');
      const timestamp = this.nextTimestamp();
      const next: StoredEntity = {
        partitionKey: keys[0],
        rowKey: keys[1],
        timestamp,
        etag: etagOf(timestamp),
        properties,
      };
      staged.set(key, next);
      results.push(next);
    }
    for (const [key, entity] of staged) {
      const [partitionKey, rowKey] = key.split('\u0000') as [string, string];
      this.store(partitionKey, rowKey, entity);
    }
    return results;
  }

  private store(partitionKey: string, rowKey: string, entity: StoredEntity | undefined): void {
    const key = compositeKey(partitionKey, rowKey);
    const synthetic = this.findSynthetic([partitionKey, rowKey]) !== undefined;
    if (!entity && !synthetic) {
      this.overlay.delete(key);
      return;
    }
    if (!this.overlay.has(key)) this.pending.push(key);
    this.overlay.set(key, { partitionKey, rowKey, entity });
  }

  private nextTimestamp(): string {
    const ticks = BigInt(this.now().getTime()) * 10_000n;
    this.lastTicks = ticks > this.lastTicks ? ticks : this.lastTicks + 1n;
    const iso = new Date(Number(this.lastTicks / 10_000n)).toISOString();
    return `${iso.slice(0, -1)}${String(this.lastTicks % 10_000n).padStart(4, '0')}Z`;
  }

  // Reads.

  private read(keys: RowKeys): StoredEntity | undefined {
    const entry = this.overlay.get(compositeKey(...keys));
    if (entry) return entry.entity;
    const found = this.findSynthetic(keys);
    return (
      found &&
      this.syntheticEntity(found.segment, found.segment.keyAt(found.row), found.segment.entityAt(found.row))
    );
  }

  private findSynthetic(keys: RowKeys): { segment: Segment; row: number } | undefined {
    const index = lowerBound(
      this.segments.length,
      (at) => compareKeys((this.segments[at] as Segment).last, keys) < 0,
    );
    const segment = this.segments[index];
    if (!segment) return undefined;
    const row = lowerBound(segment.count, (at) => compareKeys(segment.keyAt(at), keys) < 0);
    return row < segment.count && compareKeys(segment.keyAt(row), keys) === 0 ? { segment, row } : undefined;
  }

  private syntheticEntity(
    segment: Segment,
    [partitionKey, rowKey]: RowKeys,
    generated: Properties,
  ): StoredEntity {
    const { timestamp } = generated;
    const properties = Object.fromEntries(
      Object.entries(generated).filter(([name]) => !systemProperties.has(name)),
    );
    const stamp =
      timestamp instanceof Date ? `${timestamp.toISOString().slice(0, -1)}0000Z` : segment.timestamp;
    return { partitionKey, rowKey, timestamp: stamp, etag: etagOf(stamp), properties };
  }

  private async *pages(
    filter: string | undefined,
    select: string[] | undefined,
    pageSize: number | undefined,
    continuationToken: string | undefined,
  ): AsyncGenerator<Properties[] & { continuationToken?: string }> {
    const plan = this.plan(filter);
    let next: RowKeys | undefined = continuationToken ? decodeToken(continuationToken) : plan.start;
    do {
      await this.nextTurn();
      const page = this.page(plan, next, Math.min(pageSize ?? maxPageSize, maxPageSize));
      next = page.next;
      yield Object.assign(
        page.entities.map((entity) => result(entity, select)),
        { continuationToken: next && encodeToken(next) },
      );
    } while (next);
  }

  private plan(filter: string | undefined): Plan {
    const expression = filter === undefined || filter.trim() === '' ? undefined : parseFilter(filter);
    const partitions = expression ? keyRange(expression, 'PartitionKey') : {};
    const rowKeys = expression ? keyRange(expression, 'RowKey') : {};
    const { low, high } = partitions;
    if (!low && !high)
      return {
        text: filter ?? '',
        filter: expression,
        start: ['', ''],
        end: undefined,
        rowKeys: undefined,
        contiguous: true,
      };
    if (low && high && low.value === high.value && low.inclusive && high.inclusive) {
      // One partition: the row key range is one contiguous run of it.
      const start: RowKeys = [
        low.value,
        rowKeys.low ? rowKeys.low.value + (rowKeys.low.inclusive ? '' : '\u0000') : '',
      ];
      return {
        text: filter ?? '',
        filter: expression,
        start,
        end: rowKeys.high
          ? [low.value, rowKeys.high.value + (rowKeys.high.inclusive ? '\u0000' : '')]
          : [`${low.value}\u0000`, ''],
        rowKeys: undefined,
        contiguous: true,
      };
    }
    return {
      text: filter ?? '',
      filter: expression,
      start: low ? [low.value + (low.inclusive ? '' : '\u0000'), ''] : ['', ''],
      end: high ? [high.value + (high.inclusive ? '\u0000' : ''), ''] : undefined,
      rowKeys: rowKeys.low || rowKeys.high ? rowKeys : undefined,
      contiguous: !rowKeys.low && !rowKeys.high,
    };
  }

  /** One request's page, from `from` on; `next` is where the following page starts, if anything is left. */
  private page(
    plan: Plan,
    from: RowKeys,
    size: number,
  ): { entities: StoredEntity[]; next: RowKeys | undefined } {
    this.flushOverlay();
    const entities: StoredEntity[] = [];
    let read = 0;
    let lastPartition: string | undefined;
    // After a run that could not be skipped, the next rows are read one by one before trying again.
    let trySkipAt = 0;
    const cursor = this.seek(from);
    const finish = (next: RowKeys | undefined) => {
      this.count('query', read, 0, true, plan.text);
      return { entities, next };
    };
    for (;;) {
      const row = this.peek(cursor);
      if (!row || (plan.end && compareKeys(row.keys, plan.end) >= 0)) return finish(undefined);
      const [partitionKey, rowKey] = row.keys;
      if (
        entities.length >= size ||
        read >= this.rowsPerRequest ||
        (this.endPagesAtPartitionBoundaries && lastPartition !== undefined && partitionKey !== lastPartition)
      )
        return finish(row.keys);
      if (plan.rowKeys && !inRange(rowKey, plan.rowKeys)) {
        // The row a seek landed on, outside the range (read, and counted): seek on, to the range's start in this
        // partition or to the next partition. At most two such rows a partition.
        read += 1;
        lastPartition = partitionKey;
        const low = plan.rowKeys.low;
        const target: RowKeys =
          low && (rowKey < low.value || (rowKey === low.value && !low.inclusive))
            ? [partitionKey, low.value + (low.inclusive ? '' : '\u0000')]
            : [`${partitionKey}\u0000`, ''];
        Object.assign(cursor, this.seek(target));
        continue;
      }
      if (
        row.segment &&
        plan.contiguous &&
        plan.filter &&
        !this.endPagesAtPartitionBoundaries &&
        read >= trySkipAt
      ) {
        const skipped = this.skipRun(plan, cursor, row.segment, this.rowsPerRequest - read);
        if (skipped > 0) {
          read += skipped;
          continue;
        }
        trySkipAt = read + 64;
      }
      read += 1;
      lastPartition = partitionKey;
      if (row.stored) {
        const stored = row.stored;
        if (!plan.filter || matches(plan.filter, (property) => filterValue(stored, property)))
          entities.push(stored);
      } else if (row.segment) {
        // A synthetic row is built whole only when it matches.
        const { segment } = row;
        const properties = segment.entityAt(cursor.row);
        const valueOf = (property: string) =>
          property === 'PartitionKey'
            ? partitionKey
            : property === 'RowKey'
              ? rowKey
              : property === 'Timestamp'
                ? properties['timestamp'] instanceof Date
                  ? properties['timestamp']
                  : new Date(segment.timestamp)
                : properties[property];
        if (!plan.filter || matches(plan.filter, valueOf))
          entities.push(this.syntheticEntity(segment, row.keys, properties));
      }
      this.advance(cursor, row);
    }
  }

  /**
   * Skips the synthetic rows from the cursor on, up to `budget` and to the next overlay key, when the filter is
   * false for every one of them by the segment's bounds (halving the run until it is, or until it is short).
   * Returns the rows skipped (read, and not matched).
   */
  private skipRun(plan: Plan, cursor: Cursor, segment: Segment, budget: number): number {
    let length = Math.min(segment.count - cursor.row, budget);
    while (length >= 16) {
      const first = segment.keyAt(cursor.row);
      const last = segment.keyAt(cursor.row + length - 1);
      const decided = decideForRun(plan.filter as FilterExpression, (property) => {
        if (property === 'PartitionKey') return { min: first[0], max: last[0] };
        if (property === 'RowKey' && first[0] === last[0]) return { min: first[1], max: last[1] };
        return segment.bounds?.[property];
      });
      if (decided === false) return this.skip(plan, cursor, segment, length);
      length >>= 1;
    }
    return 0;
  }

  /** Skips up to `length` rows of a run the filter is false for, short of the next overlay key and the plan's end. */
  private skip(plan: Plan, cursor: Cursor, segment: Segment, length: number): number {
    let end = cursor.row + length;
    for (const limit of [this.overlayKeyAt(cursor.overlay), plan.end]) {
      if (limit)
        end = Math.min(
          end,
          lowerBound(end, (at) => compareKeys(segment.keyAt(at), limit) < 0),
        );
    }
    const skipped = Math.max(0, end - cursor.row);
    cursor.row += skipped;
    return skipped;
  }

  // Scanning: segments and the overlay merged in key order.

  private flushOverlay(): void {
    if (this.pending.length === 0 && this.sortedOverlay.length <= 2 * this.overlay.size) return;
    // Only the new keys are sorted; the two ordered lists are then merged, dropping removed keys.
    const added = this.pending.sort();
    const merged: string[] = [];
    let [old, fresh] = [0, 0];
    while (old < this.sortedOverlay.length || fresh < added.length) {
      const a = this.sortedOverlay[old];
      const b = added[fresh];
      const key = b === undefined || (a !== undefined && a <= b) ? a : b;
      if (key === a) old += 1;
      if (key === b) fresh += 1;
      if (key !== undefined && key !== merged[merged.length - 1] && this.overlay.has(key)) merged.push(key);
    }
    this.sortedOverlay = merged;
    this.pending = [];
  }

  private overlayKeyAt(index: number): RowKeys | undefined {
    for (let at = index; at < this.sortedOverlay.length; at += 1) {
      const entry = this.overlay.get(this.sortedOverlay[at] as string);
      if (entry) return [entry.partitionKey, entry.rowKey];
    }
    return undefined;
  }

  private seek(keys: RowKeys): Cursor {
    const segment = lowerBound(
      this.segments.length,
      (at) => compareKeys((this.segments[at] as Segment).last, keys) < 0,
    );
    const found = this.segments[segment];
    const row = found ? lowerBound(found.count, (at) => compareKeys(found.keyAt(at), keys) < 0) : 0;
    const composite = compositeKey(...keys);
    const overlay = lowerBound(
      this.sortedOverlay.length,
      (at) => (this.sortedOverlay[at] as string) < composite,
    );
    return { segment, row, overlay };
  }

  private peek(cursor: Cursor):
    | {
        keys: RowKeys;
        /** A written row, or undefined: the synthetic row at the cursor. */
        stored: StoredEntity | undefined;
        segment: Segment | undefined;
        fromOverlay: boolean;
        hidesRow: boolean;
      }
    | undefined {
    for (;;) {
      const segment = this.segments[cursor.segment];
      if (segment && cursor.row >= segment.count) {
        cursor.segment += 1;
        cursor.row = 0;
        continue;
      }
      const key = this.sortedOverlay[cursor.overlay];
      const entry = key === undefined ? undefined : this.overlay.get(key);
      if (key !== undefined && !entry) {
        cursor.overlay += 1;
        continue;
      }
      const syntheticKeys = segment?.keyAt(cursor.row);
      const order = !entry
        ? 1
        : !syntheticKeys
          ? -1
          : compareKeys([entry.partitionKey, entry.rowKey], syntheticKeys);
      if (order <= 0 && entry) {
        if (!entry.entity) {
          // A deleted synthetic row: neither it nor its tombstone is read.
          cursor.overlay += 1;
          if (order === 0) cursor.row += 1;
          continue;
        }
        return {
          keys: [entry.partitionKey, entry.rowKey],
          stored: entry.entity,
          segment: undefined,
          fromOverlay: true,
          hidesRow: order === 0,
        };
      }
      if (!segment || !syntheticKeys) return undefined;
      return {
        keys: syntheticKeys,
        stored: undefined,
        segment,
        fromOverlay: false,
        hidesRow: false,
      };
    }
  }

  private advance(cursor: Cursor, row: { fromOverlay: boolean; hidesRow: boolean }): void {
    if (row.fromOverlay) {
      cursor.overlay += 1;
      if (row.hidesRow) cursor.row += 1;
    } else cursor.row += 1;
  }

  /**
   * Each request applies on a later turn of the event loop, as an answer from a service would: requests started
   * together are all under way before the first applies (in the order they were made).
   */
  private nextTurn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  private count(
    kind: RequestKind,
    entitiesRead: number,
    entitiesWritten: number,
    request = true,
    filter?: string,
  ): void {
    const byKind = (this.counts.byKind[kind] ??= { requests: 0, entitiesRead: 0, entitiesWritten: 0 });
    const byFilter =
      filter === undefined
        ? []
        : [(this.counts.byFilter[filter] ??= { requests: 0, entitiesRead: 0, entitiesWritten: 0 })];
    for (const cost of [this.counts, byKind, ...byFilter]) {
      if (request) cost.requests += 1;
      cost.entitiesRead += entitiesRead;
      cost.entitiesWritten += entitiesWritten;
    }
  }
}

function emptySnapshot(): CostSnapshot {
  return { requests: 0, entitiesRead: 0, entitiesWritten: 0, byKind: {}, byFilter: {} };
}

function difference(after: CostSnapshot, before: CostSnapshot): CostSnapshot {
  const minus = (a: Cost, b: Cost | undefined): Cost => ({
    requests: a.requests - (b?.requests ?? 0),
    entitiesRead: a.entitiesRead - (b?.entitiesRead ?? 0),
    entitiesWritten: a.entitiesWritten - (b?.entitiesWritten ?? 0),
  });
  const changed = (now: Record<string, Cost>, then: Record<string, Cost>) => {
    const deltas: Record<string, Cost> = {};
    for (const [name, cost] of Object.entries(now)) {
      const delta = minus(cost, then[name]);
      if (delta.requests || delta.entitiesRead || delta.entitiesWritten) deltas[name] = delta;
    }
    return deltas;
  };
  return {
    ...minus(after, before),
    byKind: changed(after.byKind, before.byKind),
    byFilter: changed(after.byFilter, before.byFilter),
  };
}

/** The first index in [0, length) for which `before` is false (`before` true then false along the indexes). */
function lowerBound(length: number, before: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(middle)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function inRange(value: string, { low, high }: KeyRange): boolean {
  if (low && (value < low.value || (value === low.value && !low.inclusive))) return false;
  if (high && (value > high.value || (value === high.value && !high.inclusive))) return false;
  return true;
}

/** The ETag of a synthetic row whose `entityAt` gives `timestamp` (what a rollup seeded beside it must name). */
export function syntheticEtag(timestamp: Date): string {
  return etagOf(`${timestamp.toISOString().slice(0, -1)}0000Z`);
}

function etagOf(timestamp: string): string {
  return `W/"datetime'${timestamp.replace(/:/g, '%3A')}'"`;
}

function entityKeys(
  entity: Properties,
  fail: (status: number, code: string, message: string) => RestError,
): RowKeys {
  const { partitionKey, rowKey } = entity;
  if (typeof partitionKey !== 'string' || typeof rowKey !== 'string')
    throw fail(400, 'PropertiesNeedValue', 'The values are not specified for all properties in the entity.');
  if (forbiddenInKeys.test(partitionKey + rowKey) || [partitionKey, rowKey].some(tooLongKey))
    throw fail(400, 'OutOfRangeInput', 'One of the request inputs is out of range.');
  return [partitionKey, rowKey];
}

/** Characters Azure refuses in keys: `/ \ # ?` and control characters. */
// eslint-disable-next-line no-control-regex
const forbiddenInKeys = /[\u0000-\u001f\u007f-\u009f/\\#?]/;

/** A key is at most 1 KiB. */
const tooLongKey = (key: string) => Buffer.byteLength(key, 'utf16le') > 1024;

/** An entity's size as Azure counts it (Understanding the Table service data model: 1 MiB at most). */
function entitySize([partitionKey, rowKey]: RowKeys, properties: Properties): number {
  let size = 4 + (partitionKey.length + rowKey.length) * 2;
  for (const [name, value] of Object.entries(properties)) {
    size += 8 + name.length * 2;
    if (typeof value === 'string') size += 4 + value.length * 2;
    else if (value instanceof Uint8Array) size += 4 + value.length;
    else if (typeof value === 'boolean') size += 1;
    else size += 8;
  }
  return size;
}

function writableProperties(
  entity: Properties,
  fail: (status: number, code: string, message: string) => RestError,
): Properties {
  const properties: Properties = {};
  for (const [name, value] of Object.entries(entity)) {
    if (systemProperties.has(name) || value === undefined || value === null) continue;
    const tooLarge =
      (typeof value === 'string' && value.length > maxStringLength) ||
      (value instanceof Uint8Array && value.length > maxPropertyBytes);
    if (tooLarge)
      throw fail(
        400,
        'PropertyValueTooLarge',
        `The property value of ${name} exceeds the maximum allowed size (64KB).`,
      );
    if (
      !['string', 'number', 'boolean', 'bigint'].includes(typeof value) &&
      !(value instanceof Date) &&
      !(value instanceof Uint8Array)
    )
      throw new Error(`Unknown EDM type ${typeof value}`);
    properties[name] = copyValue(value);
  }
  return properties;
}

/** A property as a filter reads it: the system properties by their service names. */
function filterValue(entity: StoredEntity, property: string): unknown {
  if (property === 'PartitionKey') return entity.partitionKey;
  if (property === 'RowKey') return entity.rowKey;
  if (property === 'Timestamp') return new Date(entity.timestamp);
  return entity.properties[property];
}

/**
 * The entity as the SDK returns it: `etag` always; with `select`, only the selected properties, null for one the
 * entity lacks (as Azure answers; Azurite leaves it out: Azure/Azurite#2535).
 */
function result(entity: StoredEntity, select: string[] | undefined): Properties {
  const whole: Properties = {
    etag: entity.etag,
    partitionKey: entity.partitionKey,
    rowKey: entity.rowKey,
    ...Object.fromEntries(Object.entries(entity.properties).map(([name, value]) => [name, copyValue(value)])),
    timestamp: entity.timestamp,
  };
  if (!select) return whole;
  const picked: Properties = { etag: entity.etag };
  for (const name of select.map((selected) => selectNames[selected] ?? selected)) {
    if (name !== 'etag') picked[name] = name in whole ? whole[name] : null;
  }
  return picked;
}
