import { TableClient } from '@azure/data-tables';
import { toWireBody } from '../../src/jobs/model/jobMessage';
import { newJobRecord } from '../../src/jobs/model/jobRecord';
import { TableJobStore } from '../../src/store/tableJobStore';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { createNewRecord, jobMessage } from '../support/jobFixtures';
import { dispatcherFor, scriptedHandler } from '../support/testRuntimeParts';

let azurite: StartedAzurite;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

function tableStore(name: string): TableJobStore {
  return new TableJobStore(
    TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true }),
  );
}

describe('claims on the table store', () => {
  it('when 50 deliveries of one job arrive at once on 5 workers, then the handler runs exactly once', async () => {
    const scripted = scriptedHandler();
    scripted.behave(() => new Promise((resolve) => setTimeout(resolve, 100)));
    const store = tableStore('Concurrent50');
    const job = jobMessage({ jobType: 'test.scripted', payload: { value: 1 } });
    await store.create(newJobRecord(job, new Date()));
    const workers = Array.from({ length: 5 }, (_, index) =>
      dispatcherFor([scripted.handler], { store, workerId: `worker-${index}` }),
    );

    const settlements = await Promise.all(
      Array.from({ length: 50 }, (_, delivery) =>
        workers[delivery % workers.length]!.dispatcher.dispatch({ body: toWireBody(job), deliveryCount: 1 }),
      ),
    );

    expect(scripted.runs).toHaveLength(1);
    expect(settlements.every((settlement) => settlement.kind === 'complete')).toBe(true);
    expect((await store.get(job.jobId))?.record).toMatchObject({ status: 'Completed', attempt: 1 });
  });

  it('when a worker died holding a claim, then another takes the job over after the claim expires and it completes once', async () => {
    const scripted = scriptedHandler();
    const store = tableStore('DeadClaim');
    const job = jobMessage({ jobType: 'test.scripted', payload: { value: 1 } });
    const { record, etag } = await createNewRecord(store, newJobRecord(job, new Date()));
    await store.replace(
      {
        ...record,
        status: 'Running',
        attempt: 1,
        claimedBy: 'dead-worker',
        claimExpiresAt: new Date(Date.now() - 1).toISOString(),
      },
      etag,
    );
    const { dispatcher } = dispatcherFor([scripted.handler], { store, workerId: 'survivor' });

    const settlement = await dispatcher.dispatch({ body: toWireBody(job), deliveryCount: 2 });

    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs.map((run) => run.attempt)).toEqual([2]);
    expect((await store.get(job.jobId))?.record).toMatchObject({
      status: 'Completed',
      attempt: 2,
      claimedBy: null,
    });
  });
});
