import type { TableServiceClientOptions } from '@azure/data-tables';
import { TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { RestError } from '@azure/core-rest-pipeline';
import { InvalidContinuationTokenError } from '../../src/jobs/errors';
import type { JobStore } from '../../src/jobs/ports/jobStore';
import { InMemoryJobStore } from '../../src/store/inMemoryJobStore';
import { TableJobStore } from '../../src/store/tableJobStore';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { jobRecordAt } from '../support/jobFixtures';

let azurite: StartedAzurite;
let tableCount = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

const now = new Date('2026-01-01T12:00:00Z');

function tableStore(policies: TableServiceClientOptions['additionalPolicies'] = []): TableJobStore {
  tableCount += 1;
  const table = TableClient.fromConnectionString(azurite.connectionString, `Tokens${tableCount}`, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: policies,
  });
  return new TableJobStore(table, () => now);
}

async function withJobs(store: JobStore, count: number): Promise<JobStore> {
  for (let minute = 0; minute < count; minute += 1) {
    await store.create(jobRecordAt(`2026-01-01T10:${String(minute).padStart(2, '0')}:00Z`), '{}');
  }
  return store;
}

const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const adapters: Array<[string, () => JobStore]> = [
  ['in-memory', () => new InMemoryJobStore()],
  ['Table Storage (Azurite)', () => tableStore()],
];

describe.each(adapters)('listing tokens: %s', (_, createStore) => {
  it('when a token the store issued comes back, then the listing goes on from it to the end', async () => {
    const store = await withJobs(createStore(), 5);
    const seen: string[] = [];

    let continuationToken: string | undefined;
    do {
      const page = await store.list({ limit: 2, continuationToken });
      seen.push(...page.jobs.map(({ jobId }) => jobId));
      continuationToken = page.continuationToken;
    } while (continuationToken);

    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it.each([
    ['made up', 'garbage'],
    ['JSON of another shape', 'eyJ4IjoxfQ'],
    ['a NUL', '\u0000'],
    ['empty JSON', 'e30'],
    ['of no version', token({ cursor: {} })],
    ['of another version', token({ v: 2, cursor: {} })],
    ['with an empty cursor', token({ v: 1, cursor: {} })],
    [
      'with a day that does not exist',
      token({ v: 1, cursor: { partition: 'index-2026-02-30', after: '', daysLeft: 3 } }),
    ],
    ['with a time out of range', token({ v: 1, cursor: { submittedMs: 1e300, jobId: 'x' } })],
    ['with extra fields', token({ v: 1, cursor: { submittedMs: 1, jobId: 'x', daysLeft: 3 }, more: 1 })],
    ['not in canonical base64url', `${token({ v: 1, cursor: { submittedMs: 1, jobId: 'x' } })}=`],
  ])('when a token is %s, then the listing is refused with InvalidContinuationTokenError', async (_, bad) => {
    const store = await withJobs(createStore(), 2);

    await expect(store.list({ limit: 2, continuationToken: bad })).rejects.toBeInstanceOf(
      InvalidContinuationTokenError,
    );
  });

  it('when an issued token is cut short, then it is refused too', async () => {
    const store = await withJobs(createStore(), 3);
    const { continuationToken } = await store.list({ limit: 1 });

    await expect(
      store.list({ limit: 1, continuationToken: continuationToken!.slice(0, -3) }),
    ).rejects.toBeInstanceOf(InvalidContinuationTokenError);
  });
});

describe('listing tokens on Table Storage, when the service refuses the keys a token carries', () => {
  /** The service's answer to continuation keys it did not issue (Azure: 400 InvalidInput). */
  const refusesContinuationKeys = (status: number): PipelinePolicy => ({
    name: 'refusesContinuationKeys',
    sendRequest(request, next) {
      if (request.url.includes('NextPartitionKey=')) {
        return Promise.reject(new RestError(`Refused (injected ${status})`, { statusCode: status, request }));
      }
      return next(request);
    },
  });
  const forged = token({
    v: 1,
    cursor: {
      partition: 'index-2026-01-01',
      after: '',
      daysLeft: 3,
      serviceToken: Buffer.from(JSON.stringify({ nextPartitionKey: 'x', nextRowKey: 'y' })).toString(
        'base64',
      ),
    },
  });

  it('when it answers 400, then the token is refused as not issued, not answered as an outage', async () => {
    const store = tableStore([{ policy: refusesContinuationKeys(400), position: 'perCall' }]);

    await expect(store.list({ limit: 2, continuationToken: forged })).rejects.toBeInstanceOf(
      InvalidContinuationTokenError,
    );
  });

  it('when it answers 503, then that is still the store being unavailable', async () => {
    const store = tableStore([{ policy: refusesContinuationKeys(503), position: 'perCall' }]);

    await expect(store.list({ limit: 2, continuationToken: forged })).rejects.toMatchObject({
      code: 'StoreUnavailable',
    });
  });
});
