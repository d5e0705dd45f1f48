import { TableClient, odata } from '@azure/data-tables';
import type { TableEntity, TransactionAction } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { FilterSyntaxError, matches, parseFilter } from '../../bench/costModel/odataFilter';
import { CostModelTable } from '../../bench/costModel/tableCostModel';
import type { Properties } from '../../bench/costModel/tableCostModel';

let azurite: StartedAzurite;
let tableCount = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

/** A fresh table on Azurite; `requests` counts what reaches it, queries (one per page) apart from the rest. */
function azuriteTable(requests = { queries: 0, others: 0 }): TableClient {
  tableCount += 1;
  const countsRequests: PipelinePolicy = {
    name: 'countsRequests',
    sendRequest(request, next) {
      const query = request.method === 'GET' && new URL(request.url).pathname.endsWith('()');
      if (query) requests.queries += 1;
      else requests.others += 1;
      return next(request);
    },
  };
  return TableClient.fromConnectionString(azurite.connectionString, `CostModel${tableCount}`, {
    allowInsecureConnection: true,
    additionalPolicies: [{ policy: countsRequests, position: 'perRetry' }],
  });
}

const asTable = (model: CostModelTable) => model as unknown as TableClient;
const rowKey = (index: number) => `r${String(index).padStart(4, '0')}`;
const statuses = ['a', 'b', 'c'];

/** Row `index` of partition `partition`: every property type the store writes. */
function row(partition: string, index: number): TableEntity<Properties> {
  return {
    partitionKey: partition,
    rowKey: rowKey(index),
    status: statuses[index % 3],
    n: index,
    ratio: index / 4,
    flag: index % 5 === 0,
    at: new Date(Date.UTC(2026, 0, 1) + index * 60_000),
    ...(index % 7 === 0 && { bytes: new Uint8Array([index % 256, 0, 255]) }),
  };
}

/** The outcome of one call, comparable across tables: what came back, or the status it failed with. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: comparable(await call()) };
  } catch (error) {
    return { failed: (error as { statusCode?: number }).statusCode ?? String(error) };
  }
}

/**
 * Drops what differs by design between two tables: ETag and Timestamp values (their presence is kept), and null
 * properties (a selected property an entity lacks: Azure answers null, as the model does; Azurite leaves it out).
 */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'function') return 'function';
  if (typeof value !== 'object' || value === null || value instanceof Date || value instanceof Uint8Array)
    return value;
  const entries = Object.entries(value).filter(
    ([name, inner]) =>
      inner !== null &&
      ![
        'odata.metadata',
        'clientRequestId',
        'requestId',
        'version',
        'date',
        'body',
        'preferenceApplied',
        'contentType',
      ].includes(name),
  );
  return Object.fromEntries(
    entries.map(([name, inner]) => [
      name,
      name === 'etag' || name === 'timestamp' ? typeof inner : comparable(inner),
    ]),
  );
}

interface QueryResult {
  entities: unknown[];
  pageSizes: number[];
}

/** Every page of a query: the entities in order, and each page within its size, a token on all but the last. */
async function queryAll(
  table: TableClient,
  filter: string | undefined,
  maxPageSize: number,
  select?: string[],
): Promise<QueryResult> {
  const entities: unknown[] = [];
  const pageSizes: number[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await table
      .listEntities({ queryOptions: { ...(filter && { filter }), ...(select && { select }) } })
      .byPage({ maxPageSize, continuationToken })
      .next();
    if (page.done) break;
    expect(page.value.length).toBeLessThanOrEqual(maxPageSize);
    entities.push(...page.value.map(comparable));
    pageSizes.push(page.value.length);
    continuationToken = page.value.continuationToken;
    expect(pageSizes.length).toBeLessThanOrEqual(100_000);
  } while (continuationToken);
  return { entities, pageSizes };
}

/**
 * The same sequence on any table: 3 partitions of 1,100 rows written in transactions of 100, conditional writes,
 * transactions that fail, and queries. Returns every outcome, in order.
 */
async function runScenario(table: TableClient): Promise<{ outcomes: unknown[]; queries: QueryResult[] }> {
  const outcomes: unknown[] = [];
  await table.createTable();
  for (const partition of ['p0', 'p1', 'p2']) {
    for (let start = 0; start < 1100; start += 100) {
      const actions = Array.from({ length: 100 }, (_, index): TransactionAction => [
        'create',
        row(partition, start + index),
      ]);
      outcomes.push(await outcome(() => table.submitTransaction(actions)));
    }
  }
  // Timestamps: rows written before and after this instant.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const between = new Date();
  await new Promise((resolve) => setTimeout(resolve, 20));

  outcomes.push(await outcome(() => table.createEntity(row('p1', 5))));
  outcomes.push(await outcome(() => table.createEntity({ ...row('p3', 1), note: "it's" })));
  const first = await table.getEntity('p1', rowKey(10));
  outcomes.push(comparable(first));
  outcomes.push(
    await outcome(() =>
      table.updateEntity({ partitionKey: 'p1', rowKey: rowKey(10), status: 'z' }, 'Merge', {
        etag: first.etag,
      }),
    ),
  );
  const second = await table.getEntity('p1', rowKey(10));
  outcomes.push(second.etag !== first.etag);
  outcomes.push(comparable(second));
  outcomes.push(
    await outcome(() =>
      table.updateEntity({ partitionKey: 'p1', rowKey: rowKey(10), status: 'y' }, 'Replace', {
        etag: first.etag,
      }),
    ),
  );
  outcomes.push(
    await outcome(() =>
      table.updateEntity({ partitionKey: 'p1', rowKey: rowKey(10), n: -1 }, 'Replace', { etag: second.etag }),
    ),
  );
  outcomes.push(await outcome(() => table.getEntity('p1', rowKey(10))));
  outcomes.push(
    await outcome(() => table.updateEntity({ partitionKey: 'p1', rowKey: 'missing', n: 1 }, 'Merge')),
  );
  outcomes.push(
    await outcome(() => table.upsertEntity({ partitionKey: 'p2', rowKey: rowKey(20), extra: true }, 'Merge')),
  );
  outcomes.push(await outcome(() => table.getEntity('p2', rowKey(20))));
  outcomes.push(
    await outcome(() =>
      table.upsertEntity({ partitionKey: 'p2', rowKey: rowKey(21), extra: true }, 'Replace'),
    ),
  );
  outcomes.push(
    await outcome(() =>
      table.getEntity('p2', rowKey(21), { queryOptions: { select: ['extra', 'status', 'missing'] } }),
    ),
  );
  outcomes.push(
    await outcome(() => table.upsertEntity({ partitionKey: 'p4', rowKey: 'new', extra: false }, 'Replace')),
  );
  const doomed = await table.getEntity('p2', rowKey(30));
  outcomes.push(await outcome(() => table.deleteEntity('p2', rowKey(30), { etag: second.etag })));
  outcomes.push(await outcome(() => table.deleteEntity('p2', rowKey(30), { etag: doomed.etag })));
  outcomes.push(await outcome(() => table.deleteEntity('p2', rowKey(30))));
  outcomes.push(await outcome(() => table.getEntity('p2', rowKey(30))));

  // Writes the service refuses: keys with / or #, or over 1 KiB; a string over 32 Ki characters, a binary over 64 KiB.
  for (const refused of [
    { partitionKey: 'a/b', rowKey: 'r' },
    { partitionKey: 'p0', rowKey: 'a#b' },
    { partitionKey: 'x'.repeat(513), rowKey: 'r' },
    { partitionKey: 'p0', rowKey: 'long', s: 'x'.repeat(32 * 1024 + 1) },
    { partitionKey: 'p0', rowKey: 'large', b: new Uint8Array(64 * 1024 + 1) },
  ])
    outcomes.push(await outcome(() => table.createEntity(refused)));
  outcomes.push(
    await outcome(() =>
      table.createEntity({ partitionKey: 'p0', rowKey: 'largest', b: new Uint8Array(64 * 1024) }),
    ),
  );

  // Transactions that fail apply nothing.
  const fresh = (index: number): TransactionAction => ['create', row('p0', 2000 + index)];
  outcomes.push(await outcome(() => table.submitTransaction([fresh(1), ['create', row('p0', 3)]])));
  outcomes.push(
    await outcome(() =>
      table.submitTransaction([fresh(2), ['update', { partitionKey: 'p0', rowKey: 'nope' }]]),
    ),
  );
  outcomes.push(
    await outcome(() =>
      table.submitTransaction([fresh(3), ['delete', { partitionKey: 'p0', rowKey: 'nope' }]]),
    ),
  );
  outcomes.push(
    await outcome(() =>
      table.submitTransaction([
        fresh(4),
        ['update', { partitionKey: 'p0', rowKey: rowKey(4), n: 0 }, 'Merge', { etag: first.etag }],
      ]),
    ),
  );
  outcomes.push(await outcome(() => table.submitTransaction([fresh(5), fresh(5)])));
  for (const index of [1, 2, 3, 4, 5])
    outcomes.push(await outcome(() => table.getEntity('p0', rowKey(2000 + index))));
  // And one that succeeds applies all.
  const current = await table.getEntity('p0', rowKey(6));
  outcomes.push(
    await outcome(() =>
      table.submitTransaction([
        fresh(6),
        ['update', { partitionKey: 'p0', rowKey: rowKey(6), n: 0 }, 'Merge', { etag: current.etag }],
        ['delete', { partitionKey: 'p0', rowKey: rowKey(7) }],
        ['upsert', { partitionKey: 'p0', rowKey: rowKey(8), extra: true }, 'Merge'],
      ]),
    ),
  );
  outcomes.push(await outcome(() => table.getEntity('p0', rowKey(6))));
  outcomes.push(await outcome(() => table.getEntity('p0', rowKey(7))));
  outcomes.push(await outcome(() => table.getEntity('p0', rowKey(8))));

  const filters = [
    undefined,
    odata`PartitionKey eq ${'p1'}`,
    odata`PartitionKey eq ${'p1'} and RowKey ge ${rowKey(100)} and RowKey lt ${rowKey(250)}`,
    odata`PartitionKey ge ${'p1'} and PartitionKey lt ${'p3'} and status eq ${'b'}`,
    odata`PartitionKey gt ${'p0'} and RowKey gt ${rowKey(1095)}`,
    odata`status eq ${'a'} and n gt ${500}`,
    odata`at lt ${new Date(Date.UTC(2026, 0, 1) + 30 * 60_000)}`,
    odata`Timestamp ge ${between}`,
    odata`(status eq ${'a'} or flag eq ${true}) and not (n ge ${1000}) and ratio lt ${100.5}`,
    odata`RowKey eq ${rowKey(5)} or note eq ${"it's"}`,
    odata`extra ne ${true}`,
    odata`not (extra eq ${true}) and PartitionKey eq ${'p2'} and RowKey lt ${rowKey(25)}`,
  ];
  const queries: QueryResult[] = [];
  for (const filter of filters) {
    queries.push(await queryAll(table, filter, 1000));
    queries.push(await queryAll(table, filter, 7));
  }
  queries.push(
    await queryAll(table, odata`PartitionKey ge ${'p1'}`, 1000, ['status', 'n', 'missing', 'RowKey']),
  );
  return { outcomes, queries };
}

describe('the cost model against Azurite', () => {
  it('answers a sequence of writes, failing transactions and queries as Azurite does', async () => {
    const requests = { queries: 0, others: 0 };
    const expected = await runScenario(azuriteTable(requests));

    const model = new CostModelTable();
    const onModel = await runScenario(asTable(model));
    const onModelEndingPagesAtPartitions = await runScenario(
      asTable(new CostModelTable({ endPagesAtPartitionBoundaries: true })),
    );

    expect(onModel.outcomes).toEqual(expected.outcomes);
    // One request per call, page and transaction: as many as reached Azurite (queries' pages may differ: below).
    const { requests: modelRequests, byKind } = model.snapshot();
    expect(modelRequests - (byKind.query?.requests ?? 0)).toBe(requests.others);
    expect(requests.others).toBeGreaterThan(50);
    expect(onModelEndingPagesAtPartitions.outcomes).toEqual(expected.outcomes);
    for (const [index, query] of expected.queries.entries()) {
      expect([index, onModel.queries[index]?.entities]).toEqual([index, query.entities]);
      expect([index, onModelEndingPagesAtPartitions.queries[index]?.entities]).toEqual([
        index,
        query.entities,
      ]);
    }
    // A partition read whole: pages of 1,000 and the rest, on both.
    expect(expected.queries[2]?.pageSizes).toEqual([1000, 100]);
    expect(onModel.queries[2]?.pageSizes).toEqual([1000, 100]);
    expect(expected.queries.reduce((total, query) => total + query.entities.length, 0)).toBeGreaterThan(
      10_000,
    );
  });
});

/** Every page of a query on the model, and what reading them cost. */
async function costOf(model: CostModelTable, filter: string, maxPageSize = 1000) {
  const { result, cost } = await model.measure(() => queryAll(asTable(model), filter, maxPageSize));
  return { matched: result.entities.length, pages: result.pageSizes, ...cost };
}

/** Three partitions of 1,100 synthetic rows, `row`'s properties. */
function threePartitions(options?: ConstructorParameters<typeof CostModelTable>[0]): CostModelTable {
  const model = new CostModelTable(options);
  for (const partition of ['p0', 'p1', 'p2'])
    model.seedPartition(partition, 1100, rowKey, (index) => row(partition, index));
  return model;
}

const hexKey = (index: number) => index.toString(16).padStart(8, '0');
const epoch = Date.UTC(2026, 0, 1);

/** `count` single-row partitions (a record per job): all Completed, updated a second apart. */
function records(count: number): CostModelTable {
  const model = new CostModelTable();
  model.seedPartitions(
    count,
    hexKey,
    'job',
    (index) => ({ status: 'Completed', updatedAt: new Date(epoch + index * 1000) }),
    {
      status: { min: 'Completed', max: 'Completed' },
      updatedAt: { min: new Date(epoch), max: new Date(epoch + (count - 1) * 1000) },
    },
  );
  return model;
}

const unfinishedFilter = (before: Date) =>
  [
    odata`RowKey eq ${'job'}`,
    odata`updatedAt lt ${before}`,
    odata`(status eq ${'Queued'} or status eq ${'Running'})`,
  ].join(' and ');

describe('the cost model counts', () => {
  it('a point read as one request and one entity, found or not', async () => {
    const model = threePartitions();

    const found = await model.measure(() => model.getEntity('p1', rowKey(7)));
    const missing = await model.measure(() => model.getEntity('p1', 'nope').catch(() => undefined));
    const selected = await model.getEntity('p1', rowKey(7), { queryOptions: { select: ['n', 'missing'] } });

    expect(found.result).toMatchObject({ partitionKey: 'p1', rowKey: rowKey(7), n: 7 });
    expect(found.cost).toMatchObject({ requests: 1, entitiesRead: 1, entitiesWritten: 0 });
    expect(missing.cost).toMatchObject({ requests: 1, entitiesRead: 1 });
    // Azure answers null for a selected property the entity lacks (Azurite leaves it out: Azure/Azurite#2535).
    expect(selected).toEqual({ etag: found.result['etag'], n: 7, missing: null });
  });

  it('reads one partition for PartitionKey eq, seeks a RowKey range, and scans every row otherwise', async () => {
    const model = threePartitions();

    const partition = await costOf(model, odata`PartitionKey eq ${'p1'}`);
    const range = await costOf(
      model,
      odata`PartitionKey eq ${'p1'} and RowKey ge ${rowKey(100)} and RowKey lt ${rowKey(250)}`,
    );
    const partitionScan = await costOf(model, odata`PartitionKey eq ${'p1'} and status eq ${'b'}`);
    const partitionRange = await costOf(model, odata`PartitionKey ge ${'p1'} and RowKey lt ${rowKey(10)}`);
    const after = await costOf(model, odata`PartitionKey gt ${'p1'}`);
    const before = await costOf(model, odata`PartitionKey lt ${'p1'} and RowKey gt ${rowKey(1090)}`);
    const between = await costOf(model, odata`PartitionKey gt ${'p0'} and PartitionKey le ${'p1'}`);
    const tableScan = await costOf(model, odata`RowKey lt ${rowKey(10)}`);
    const eitherPartition = await costOf(model, odata`PartitionKey eq ${'p1'} or PartitionKey eq ${'p2'}`);

    expect(partition).toMatchObject({ matched: 1100, pages: [1000, 100], requests: 2, entitiesRead: 1100 });
    expect(range).toMatchObject({ matched: 150, requests: 1, entitiesRead: 150 });
    expect(partitionScan).toMatchObject({ matched: 367, requests: 2, entitiesRead: 1100 });
    // In each partition, the rows in range and the row past it (a seek lands on it, and the scan seeks on).
    expect(partitionRange).toMatchObject({ matched: 20, requests: 1, entitiesRead: 22 });
    expect(after).toMatchObject({ matched: 1100, requests: 2, entitiesRead: 1100 });
    expect(before).toMatchObject({ matched: 9, requests: 1, entitiesRead: 10 });
    expect(between).toMatchObject({ matched: 1100, requests: 2, entitiesRead: 1100 });
    expect(tableScan).toMatchObject({ matched: 30, requests: 4, entitiesRead: 3300 });
    expect(eitherPartition).toMatchObject({ matched: 2200, requests: 4, entitiesRead: 3300 });
    expect(model.snapshot().byFilter[odata`RowKey lt ${rowKey(10)}`]).toEqual({
      requests: 4,
      entitiesRead: 3300,
      entitiesWritten: 0,
    });
  });

  it('seeks a row key range in a synthetic partition of a million rows, and reads writes made over it', async () => {
    const model = new CostModelTable();
    const day = 'index-2026-01-01';
    model.seedPartition(day, 1_000_000, hexKey, (index) => ({ status: statuses[index % 3] }));
    await model.upsertEntity({ partitionKey: day, rowKey: hexKey(500_003), status: 'z' }, 'Replace');
    await model.deleteEntity(day, hexKey(500_004));
    await model.createEntity({ partitionKey: day, rowKey: `${hexKey(500_004)}a`, status: 'new' });

    const range = await model.measure(() =>
      queryAll(
        asTable(model),
        odata`PartitionKey eq ${day} and RowKey ge ${hexKey(500_000)} and RowKey lt ${hexKey(500_008)}`,
        1000,
        ['RowKey', 'status'],
      ),
    );

    const seeded = (index: number) => ({
      etag: 'string',
      rowKey: hexKey(index),
      status: statuses[index % 3],
    });
    expect(range.result.entities).toEqual([
      ...[500_000, 500_001, 500_002].map(seeded),
      { etag: 'string', rowKey: hexKey(500_003), status: 'z' },
      { etag: 'string', rowKey: `${hexKey(500_004)}a`, status: 'new' },
      ...[500_005, 500_006, 500_007].map(seeded),
    ]);
    expect(range.cost).toMatchObject({ requests: 1, entitiesRead: 8 });
    expect(model.size).toBe(1_000_000);
  });

  it('ends a page where the scan leaves a partition when told to, and at maxPageSize', async () => {
    const filter = odata`PartitionKey ge ${'p0'} and RowKey lt ${rowKey(10)}`;

    const spanning = await costOf(threePartitions(), filter);
    const ending = await costOf(threePartitions({ endPagesAtPartitionBoundaries: true }), filter);
    const small = await costOf(
      threePartitions(),
      odata`PartitionKey eq ${'p2'} and RowKey lt ${rowKey(10)}`,
      3,
    );

    expect(spanning).toMatchObject({ pages: [30], requests: 1, entitiesRead: 33 });
    expect(ending).toMatchObject({ pages: [10, 10, 10], requests: 3, entitiesRead: 33 });
    expect(small).toMatchObject({ pages: [3, 3, 3, 1], requests: 4, entitiesRead: 10 });
  });

  it('refuses an entity over 1 MiB, as Azure does (Azurite takes it)', async () => {
    const model = new CostModelTable();
    const parts = (count: number) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, index) => [`body${index}`, new Uint8Array(64_000)]),
      );

    const refused = await model
      .createEntity({ partitionKey: 'p', rowKey: 'r', ...parts(17) })
      .catch((error) => error);
    await model.createEntity({ partitionKey: 'p', rowKey: 'r', ...parts(16) });

    expect(refused).toMatchObject({ statusCode: 400, code: 'EntityTooLarge' });
    expect(model.size).toBe(1);
  });

  it('a transaction as one request, its writes only when it applies', async () => {
    const model = threePartitions();
    const create = (index: number): TransactionAction => ['create', row('p1', 5000 + index)];

    const failed = await model.measure(() =>
      asTable(model)
        .submitTransaction([create(1), create(2), ['create', row('p1', 3)]])
        .catch((error: unknown) => error),
    );
    const applied = await model.measure(() => asTable(model).submitTransaction([create(1), create(2)]));

    expect(failed.result).toMatchObject({ statusCode: 409, message: expect.stringMatching(/^2:/) });
    expect(failed.cost).toMatchObject({ requests: 1, entitiesWritten: 0 });
    expect(applied.cost).toMatchObject({
      requests: 1,
      entitiesWritten: 2,
      byKind: { submitTransaction: { requests: 1 } },
    });
    expect(model.size).toBe(3302);
  });

  it('skips runs of synthetic rows by their bounds with the same answers and counts as reading each row', async () => {
    const bounded = records(20_000);
    const unbounded = new CostModelTable();
    unbounded.seedPartitions(20_000, hexKey, 'job', (index) => ({
      status: 'Completed',
      updatedAt: new Date(epoch + index * 1000),
    }));
    for (const model of [bounded, unbounded]) {
      await model.upsertEntity(
        { partitionKey: hexKey(123), rowKey: 'job', status: 'Running', updatedAt: new Date(epoch) },
        'Replace',
      );
      await model.deleteEntity(hexKey(124), 'job');
      await model.createEntity({
        partitionKey: `${hexKey(125)}x`,
        rowKey: 'job',
        status: 'Queued',
        updatedAt: new Date(epoch),
      });
    }
    const filters = [
      unfinishedFilter(new Date(epoch + 15_000_000)),
      odata`updatedAt ge ${new Date(epoch + 19_990_000)} and status eq ${'Completed'}`,
      odata`PartitionKey ge ${hexKey(100)} and PartitionKey lt ${hexKey(200)} and status ne ${'Completed'}`,
    ];

    for (const filter of filters) {
      const withBounds = await bounded.measure(() => queryAll(asTable(bounded), filter, 1000));
      const withoutBounds = await unbounded.measure(() => queryAll(asTable(unbounded), filter, 1000));

      expect(withBounds.result).toEqual(withoutBounds.result);
      expect(withBounds.cost).toEqual(withoutBounds.cost);
    }
    expect(
      (await bounded.measure(() => queryAll(asTable(bounded), filters[0] as string, 1000))).cost,
    ).toMatchObject({
      requests: 20,
      entitiesRead: 20_000,
    });
  });

  it.each([1_000_000, 30_000_000])(
    'a scan of %i single-row partitions: every row read, a request per 1,000; a point read stays at one',
    async (count) => {
      const model = records(count);
      const running = hexKey(count - 10);
      await model.updateEntity({ partitionKey: running, rowKey: 'job', status: 'Running' }, 'Merge');
      model.reset();

      const scan = await costOf(model, unfinishedFilter(new Date(epoch + count * 1000)));
      const point = await model.measure(() => model.getEntity(hexKey(count >> 1), 'job'));

      expect(scan).toMatchObject({ matched: 1, requests: count / 1000, entitiesRead: count });
      expect(point.cost).toMatchObject({ requests: 1, entitiesRead: 1 });
      expect(point.result).toMatchObject({
        status: 'Completed',
        updatedAt: new Date(epoch + (count >> 1) * 1000),
      });
    },
  );
});

describe('the filter parser', () => {
  const entity: Record<string, unknown> = {
    PartitionKey: 'p',
    s: "it's",
    n: 5,
    big: 5n,
    flag: true,
    at: new Date('2026-01-01T00:00:00Z'),
  };
  const test = (filter: string) => matches(parseFilter(filter), (property) => entity[property]);

  it.each([
    [odata`s eq ${"it's"}`, true],
    [`n gt 4 and n lt 6`, true],
    [`n ge 5.5`, false],
    [`big eq 5L`, true],
    [`flag eq false or n eq 5 and s eq 'x'`, false],
    [`(flag eq false or n eq 5) and s ne 'x'`, true],
    [`not (flag eq true)`, false],
    [odata`at ge ${new Date('2026-01-01T00:00:00Z')} and at lt datetime'2026-01-01T00:00:00.001Z'`, true],
    [`missing ne 'a'`, false],
    [`not (missing eq 'a')`, true],
    [`n eq '5'`, false],
    [`PartitionKey eq 'p' and (s gt 'i' or n lt 0)`, true],
  ])('reads %s as %s', (filter, expected) => {
    expect(test(filter)).toBe(expected);
  });

  it.each([`n gt`, `n eq 'open`, `(n eq 1`, `n like 'a'`, `n eq 1 n`])('refuses %s', (filter) => {
    expect(() => parseFilter(filter)).toThrow(FilterSyntaxError);
  });
});
