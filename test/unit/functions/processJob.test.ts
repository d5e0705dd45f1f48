import type { InvocationContext } from '@azure/functions';
import { assertExplicitSettlementSupported } from '../../../src/functions/explicitSettlementSupport';
import { createFunctionTable } from '../../../src/functions/functionTable';
import {
  createProcessJobExplicitlySettled,
  createProcessJobHostSettled,
} from '../../../src/functions/processJob';
import type { SdkReceivedMessage } from '../../../src/queue/serviceBusJobMessage';
import { fromHostTrigger, fromSdkMessage } from '../../../src/queue/serviceBusJobMessage';
import type { ServiceBusMessageActions } from '../../../src/queue/serviceBusSettlers';
import type { JobsRuntime } from '../../../src/runtime';
import { embeddedRuntime } from '../../support/embeddedRuntime';
import { invocationContext } from '../../support/invocationContext';
import { cSharpProducerBody } from '../../support/jobFixtures';

const emulatorConnection =
  'Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';

function hostContext(triggerMetadata: Record<string, unknown>): InvocationContext {
  return invocationContext({ functionName: 'processJob', triggerMetadata });
}

/** Records every settlement call, as the binding's gRPC settlement service would receive them. */
function recordingActions(): ServiceBusMessageActions<SdkReceivedMessage> & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    complete: async (message) => void calls.push(['complete', message.messageId]),
    abandon: async (message) => void calls.push(['abandon', message.messageId]),
    deadletter: async (message, _properties, reason, description) =>
      void calls.push(['deadletter', message.messageId, reason, description]),
  };
}

describe('processJob', () => {
  let runtime: JobsRuntime;

  beforeEach(() => {
    runtime = embeddedRuntime();
  });

  afterEach(() => runtime.stop());

  describe('host settlement', () => {
    it('returns (so the host completes) when the job completes, with the body as the worker decodes it', async () => {
      const body = cSharpProducerBody();

      await createProcessJobHostSettled(runtime)(
        body,
        hostContext({ deliveryCount: 1, messageId: body.jobId, enqueuedTimeUtc: '2026-01-01T00:00:00Z' }),
      );

      expect((await runtime.store.get(body.jobId as string))?.record).toMatchObject({
        status: 'Completed',
        attempt: 1,
      });
    });

    it('throws (so the host abandons) on a dead-letter decision, after recording the reason on the job', async () => {
      const body = cSharpProducerBody({ payload: { poison: true } });
      const processJob = createProcessJobHostSettled(runtime);

      await expect(processJob(JSON.stringify(body), hostContext({ deliveryCount: 1 }))).rejects.toThrow(
        /Dead-lettered \(Poisoned\)/,
      );
      await expect(processJob(body, hostContext({ deliveryCount: 2 }))).rejects.toThrow(
        /Dead-lettered \(Poisoned\)/,
      );

      expect((await runtime.store.get(body.jobId as string))?.record).toMatchObject({
        status: 'DeadLettered',
        deadLetterReason: 'Poisoned',
        attempt: 1,
      });
    });

    it('reads the trigger metadata the host sends, delivery count counted from 1', () => {
      const received = fromHostTrigger('{}', {
        deliveryCount: 2,
        messageId: 'm-1',
        enqueuedTimeUtc: '2026-01-01T00:00:00Z',
        applicationProperties: { JobRecordETag: 'W/"7"' },
      });

      expect(received).toEqual({
        body: '{}',
        messageId: 'm-1',
        deliveryCount: 2,
        enqueuedTime: new Date('2026-01-01T00:00:00Z'),
        recordEtag: 'W/"7"',
        cycle: 1,
      });
    });
  });

  describe('explicit settlement', () => {
    it('completes each message explicitly, accepting one message or an array, and a Buffer body', async () => {
      const actions = recordingActions();
      const first = cSharpProducerBody();
      const second = cSharpProducerBody();
      const processJob = createProcessJobExplicitlySettled(runtime);

      await processJob({ messages: { body: first, messageId: 'm1', deliveryCount: 0 }, actions });
      await processJob({
        messages: [{ body: Buffer.from(JSON.stringify(second)), messageId: 'm2', deliveryCount: 0 }],
        actions,
      });

      expect(actions.calls).toEqual([
        ['complete', 'm1'],
        ['complete', 'm2'],
      ]);
    });

    it('dead-letters with the reason code and a description', async () => {
      const actions = recordingActions();

      await createProcessJobExplicitlySettled(runtime)({
        messages: { body: 'not json', messageId: 'm3', deliveryCount: 0 },
        actions,
      });

      expect(actions.calls).toEqual([
        ['deadletter', 'm3', 'InvalidFormat', expect.stringMatching(/not JSON/)],
      ]);
    });

    it('reads the SDK delivery count as 0-based', () => {
      const enqueuedTimeUtc = new Date('2026-01-01T00:00:00Z');

      expect(fromSdkMessage({ body: 'x', messageId: 'm4', deliveryCount: 0, enqueuedTimeUtc })).toEqual({
        body: 'x',
        messageId: 'm4',
        deliveryCount: 1,
        enqueuedTime: enqueuedTimeUtc,
        recordEtag: undefined,
        cycle: 1,
      });
    });
  });
});

describe('createFunctionTable', () => {
  it('has no queue trigger in embedded mode, and the reconciler timer in both', async () => {
    const runtime = embeddedRuntime();

    const table = createFunctionTable(runtime);
    const names = table.map((definition) => definition.name);

    expect(names).not.toContain('processJob');
    expect(table.find((definition) => definition.name === 'reconcileJobs')).toMatchObject({ kind: 'timer' });
    expect(names).toEqual(expect.arrayContaining(['submitJob', 'getJob', 'listDeadLetters', 'listJobTypes']));
    expect(new Set(names).size).toBe(names.length);
    await runtime.stop();
  });

  it.each([
    ['host', { autoCompleteMessages: true, sdkBinding: false }],
    ['explicit', { autoCompleteMessages: false, sdkBinding: true }],
  ])('binds processJob to the queue setting in %s settlement', async (settlement, binding) => {
    const runtime = embeddedRuntime({
      Jobs__UseServiceBus: 'true',
      ServiceBusConnection: emulatorConnection,
      Jobs__ServiceBus__Settlement: settlement,
      Jobs__Store: 'memory',
    });

    const processJob = createFunctionTable(runtime).find((definition) => definition.name === 'processJob');

    expect(processJob).toMatchObject({
      kind: 'serviceBusQueue',
      queueName: '%Jobs__ServiceBus__QueueName%',
      connection: 'ServiceBusConnection',
      ...binding,
    });
    await runtime.stop();
  });
});

describe('assertExplicitSettlementSupported', () => {
  it('refuses the installed extension, naming its version', () => {
    expect(() => assertExplicitSettlementSupported()).toThrow(/0\.2\.0-preview is installed/);
  });

  it('refuses previews of 0.4.0 and accepts 0.4.0 and later', () => {
    expect(() => assertExplicitSettlementSupported(() => '0.4.0-preview')).toThrow(
      /Jobs__ServiceBus__Settlement=host/,
    );
    expect(assertExplicitSettlementSupported(() => '0.4.0')).toBe('0.4.0');
    expect(assertExplicitSettlementSupported(() => '1.0.0')).toBe('1.0.0');
  });
});
