import { TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { RestError } from '@azure/core-rest-pipeline';
import type { RowWrite } from '../../src/store/entityGroupWriter';
import { EntityGroupWriter } from '../../src/store/entityGroupWriter';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { waitFor } from '../support/waitFor';

let azurite: StartedAzurite;
let tableCount = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

interface Harness {
  table: TableClient;
  writer: EntityGroupWriter;
  /** Transactions sent, each as its number of sub-requests. */
  transactions: number[];
  fault: { failNext: number; hold?: Promise<void> };
}

async function harness(): Promise<Harness> {
  tableCount += 1;
  const transactions: number[] = [];
  const fault: Harness['fault'] = { failNext: 0 };
  const observer: PipelinePolicy = {
    name: 'observesTransactions',
    async sendRequest(request, next) {
      if (request.url.endsWith('$batch')) {
        const body = typeof request.body === 'string' ? request.body : '';
        transactions.push(body.split('content-type: application/http').length - 1);
        if (fault.failNext > 0) {
          fault.failNext -= 1;
          throw new RestError('Service unavailable (injected)', { statusCode: 503, request });
        }
        await fault.hold;
      }
      return next(request);
    },
  };
  const table = TableClient.fromConnectionString(azurite.connectionString, `Writer${tableCount}`, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: observer, position: 'perCall' }],
  });
  await table.createTable();
  const writer = new EntityGroupWriter(
    table,
    () => ({ abortSignal: AbortSignal.timeout(10_000) }),
    (error) => new Error(`mapped: ${(error as Error).message}`),
  );
  return { table, writer, transactions, fault };
}

const upsert = (rowKey: string, value: string): RowWrite => ({
  kind: 'upsert',
  entity: { partitionKey: 'p', rowKey, value },
});
const remove = (rowKey: string): RowWrite => ({ kind: 'delete', partitionKey: 'p', rowKey });

async function rowsOf(table: TableClient): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown> = {};
  for await (const entity of table.listEntities<{ value: string }>())
    rows[entity.rowKey ?? ''] = entity.value;
  return rows;
}

describe('EntityGroupWriter on Azurite', () => {
  it('commits the writes of one turn for one partition in one transaction', async () => {
    const { table, writer, transactions } = await harness();

    await Promise.all(
      [0, 1, 2].map((job) =>
        writer.write(
          'p',
          Array.from({ length: 10 }, (_, row) => upsert(`${job}-${row}`, `v${job}`)),
        ),
      ),
    );

    expect(transactions).toEqual([30]);
    expect(Object.keys(await rowsOf(table))).toHaveLength(30);
  });

  it('splits more than 100 rows into transactions of at most 100, all applied', async () => {
    const { table, writer, transactions } = await harness();

    await writer.write(
      'p',
      Array.from({ length: 250 }, (_, row) => upsert(String(row).padStart(3, '0'), 'v')),
    );

    expect(transactions.sort((a, b) => a - b)).toEqual([50, 100, 100]);
    expect(Object.keys(await rowsOf(table))).toHaveLength(250);
  });

  it('applies the last write of a row asked for: a delete after an upsert removes it, a second upsert replaces', async () => {
    const { table, writer } = await harness();
    await writer.write('p', [upsert('kept', 'old')]);

    await Promise.all([
      writer.write('p', [upsert('gone', 'v'), upsert('kept', 'first')]),
      writer.write('p', [remove('gone'), upsert('kept', 'second')]),
    ]);

    expect(await rowsOf(table)).toEqual({ kept: 'second' });
  });

  it('writes asked while a transaction is in flight go in the next one, after it', async () => {
    const { table, writer, transactions, fault } = await harness();
    let release = () => {};
    fault.hold = new Promise<void>((resolve) => (release = resolve));
    const first = writer.write('p', [upsert('row', 'first')]);
    await waitFor(() => transactions.length === 1, { description: 'the first transaction sent' });

    const second = writer.write('p', [upsert('row', 'second'), upsert('other', 'v')]);
    const third = writer.write('p', [upsert('row', 'third')]);
    fault.hold = undefined;
    release();
    await Promise.all([first, second, third]);

    expect(transactions).toEqual([1, 2]);
    expect(await rowsOf(table)).toEqual({ row: 'third', other: 'v' });
  });

  it('a row to delete that is not there fails nothing: the transaction goes again without it', async () => {
    const { table, writer, transactions } = await harness();
    await writer.write('p', [upsert('present', 'v')]);
    transactions.length = 0;

    await writer.write('p', [remove('present'), remove('missing'), upsert('new', 'v'), remove('gone too')]);

    expect(await rowsOf(table)).toEqual({ new: 'v' });
    expect(transactions).toEqual([4, 3, 2]);
  });

  it('a lingering write waits for more: a later write without linger sends both in one transaction', async () => {
    const { table, writer, transactions } = await harness();

    const lingering = writer.write('p', [upsert('claim', 'running')], 60_000);
    await new Promise((resolve) => setImmediate(resolve));
    const sentEarly = transactions.length;
    await writer.write('p', [upsert('claim', 'completed'), upsert('result', 'v')]);
    await lingering;

    expect(sentEarly).toBe(0);
    expect(transactions).toEqual([2]);
    expect(await rowsOf(table)).toEqual({ claim: 'completed', result: 'v' });
  });

  it('idle sends lingering writes at once', async () => {
    const { table, writer, transactions } = await harness();

    const lingering = writer.write('p', [upsert('claim', 'running')], 60_000);
    await writer.idle();

    await expect(lingering).resolves.toBeUndefined();
    expect(transactions).toEqual([1]);
    expect(await rowsOf(table)).toEqual({ claim: 'running' });
  });

  it('a failed transaction rejects every write in it with the mapped error, and the next write goes on', async () => {
    const { table, writer, fault } = await harness();
    fault.failNext = 1;

    const failed = await Promise.allSettled([
      writer.write('p', [upsert('a', 'v')]),
      writer.write('p', [upsert('b', 'v')]),
    ]);
    await writer.idle();
    await writer.write('p', [upsert('c', 'v')]);

    expect(failed.map((result) => result.status === 'rejected' && String(result.reason))).toEqual([
      expect.stringContaining('mapped: Service unavailable (injected)'),
      expect.stringContaining('mapped: Service unavailable (injected)'),
    ]);
    expect(await rowsOf(table)).toEqual({ c: 'v' });
  });

  it('idle waits for every write asked for, in every partition; a write of no rows is done at once', async () => {
    const { table, writer } = await harness();

    await writer.write('p', []);
    void writer.write('p', [upsert('a', 'v')]);
    void writer.write('q', [{ kind: 'upsert', entity: { partitionKey: 'q', rowKey: 'b', value: 'v' } }]);
    await writer.idle();

    expect(await rowsOf(table)).toEqual({ a: 'v', b: 'v' });
  });
});
