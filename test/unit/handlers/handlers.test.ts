import { InMemoryDocumentStore } from '../../../src/documents/inMemoryDocumentStore';
import { HandlerRegistry } from '../../../src/jobs/jobTypes/handlerRegistry';
import type { JobHandler } from '../../../src/jobs/jobTypes/jobHandler';
import { createHandlerRegistry } from '../../../src/handlers/registeredHandlers';
import { isPermanentJobError } from '../../../src/jobs/errors';
import { silentLogger } from '../../../src/jobs/support/logger';
import { jobMessage } from '../../support/jobFixtures';
import { scriptedHandler } from '../../support/testRuntimeParts';

function run(
  handler: JobHandler | undefined,
  payload: unknown,
  job = jobMessage(),
  signal = new AbortController().signal,
  cycle = 1,
) {
  if (!handler) throw new Error('handler not registered');
  const parsed = handler.payloadSchema.parse(payload);
  return handler.handle(parsed, {
    job,
    attempt: job.attempt,
    cycle,
    signal,
    logger: silentLogger,
    progress: () => undefined,
  });
}

describe('HandlerRegistry', () => {
  it('refuses two handlers for one job type at start-up', () => {
    expect(() => new HandlerRegistry([scriptedHandler('a').handler, scriptedHandler('a').handler])).toThrow(
      expect.objectContaining({ code: 'DuplicateJobType' }),
    );
  });

  it('makes an object payload schema strict, so a misspelt field is InvalidPayload, not a run with defaults', () => {
    const registry = new HandlerRegistry([scriptedHandler('strict.type').handler]);

    const match = registry.match({ jobType: 'strict.type', payload: { value: 1, valeu: 2 } });

    expect(match).toEqual({
      ok: false,
      reason: 'InvalidPayload',
      description: "The payload does not match 'strict.type': payload.valeu: Unknown field.",
    });
  });

  it('accepts unknown payload fields when the handler allows extra fields', () => {
    const { handler } = scriptedHandler('lenient.type');
    const registry = new HandlerRegistry([{ ...handler, allowExtraPayloadFields: true }]);

    const match = registry.match({ jobType: 'lenient.type', payload: { value: 1, addedLater: 2 } });

    expect(match).toMatchObject({ ok: true, payload: { value: 1 } });
  });

  it("gives each type its own policy over the app's settings, and refuses a policy out of range at start-up", () => {
    const own = {
      ...scriptedHandler('own.policy').handler,
      policy: { maxAttempts: 7, retry: { baseDelayMs: 50 } },
    };
    const settings = {
      defaultMaxAttempts: 3,
      handlerTimeoutMs: 1_000,
      retry: { baseDelayMs: 10, maxDelayMs: 20, jitter: 0 },
    };

    const registry = new HandlerRegistry([own, scriptedHandler('plain').handler], settings);

    expect(registry.policyOf('own.policy')).toEqual({
      maxAttempts: 7,
      maxAttemptsIsBound: true,
      handlerTimeoutMs: 1_000,
      // A base above the app's maximum lifts the maximum with it, as the settings themselves require.
      retry: { baseDelayMs: 50, maxDelayMs: 50, jitter: 0 },
    });
    expect(registry.policyOf('plain')).toEqual({
      maxAttempts: 3,
      maxAttemptsIsBound: false,
      handlerTimeoutMs: 1_000,
      retry: settings.retry,
    });
    expect(() => new HandlerRegistry([{ ...own, policy: { maxAttempts: 0 } }])).toThrow(
      /Job type 'own\.policy': policy\/maxAttempts/,
    );
  });

  it('registers diagnostics.simulate only when diagnostics are enabled', () => {
    const documents = new InMemoryDocumentStore();

    // Compared with each other, not with a list: adding a job type must not break this test.
    const withDiagnostics = createHandlerRegistry({ documents, enableDiagnostics: true }).jobTypes();
    const without = createHandlerRegistry({ documents, enableDiagnostics: false }).jobTypes();

    expect(withDiagnostics).toContain('diagnostics.simulate');
    expect(without).toEqual(withDiagnostics.filter((jobType) => jobType !== 'diagnostics.simulate'));
    expect(without).toEqual(expect.arrayContaining(['document.delete', 'document.upload']));
  });
});

describe('document handlers', () => {
  const content = { content: Buffer.from('%PDF'), contentType: 'application/pdf', metadata: { owner: 'u1' } };

  it('moves a staged object into the documents area, and a repeat is harmless', async () => {
    const documents = new InMemoryDocumentStore();
    const upload = createHandlerRegistry({ documents, enableDiagnostics: false }).get('document.upload');
    await documents.stage('incoming/abc', content);
    const payload = { stagingKey: 'incoming/abc', container: 'contracts', documentId: 'doc-1' };

    await run(upload, payload);
    await run(upload, payload);

    expect(await documents.get('contracts', 'doc-1')).toEqual(content);
  });

  it('reports a permanent failure when the staged object never existed', async () => {
    const documents = new InMemoryDocumentStore();
    const upload = createHandlerRegistry({ documents, enableDiagnostics: false }).get('document.upload');

    const error = await run(upload, {
      stagingKey: 'missing',
      container: 'contracts',
      documentId: 'doc-2',
    }).catch((e) => e);

    expect(isPermanentJobError(error)).toBe(true);
  });

  it('deletes a document, and deleting a missing one succeeds', async () => {
    const documents = new InMemoryDocumentStore();
    const registry = createHandlerRegistry({ documents, enableDiagnostics: false });
    await documents.stage('s', content);
    await run(registry.get('document.upload'), {
      stagingKey: 's',
      container: 'contracts',
      documentId: 'doc-3',
    });

    await run(registry.get('document.delete'), { container: 'contracts', documentId: 'doc-3' });
    await run(registry.get('document.delete'), { container: 'contracts', documentId: 'doc-3' });

    expect(await documents.get('contracts', 'doc-3')).toBeUndefined();
  });

  it('refuses identifiers that would not be valid on Blob Storage', () => {
    const upload = createHandlerRegistry({
      documents: new InMemoryDocumentStore(),
      enableDiagnostics: false,
    }).get('document.upload');

    const result = upload?.payloadSchema.safeParse({
      stagingKey: '../etc/passwd',
      container: 'Bad_Name',
      documentId: '',
    });

    expect(result?.success).toBe(false);
    expect(new Set(result?.error?.issues.map((issue) => issue.path.join('.')))).toEqual(
      new Set(['container', 'documentId', 'stagingKey']),
    );
  });
});

describe('diagnostics.simulate', () => {
  const simulate = () =>
    createHandlerRegistry({ documents: new InMemoryDocumentStore(), enableDiagnostics: true }).get(
      'diagnostics.simulate',
    );

  it('fails transiently while the attempt is at most failTimes, then succeeds', async () => {
    const handler = simulate();
    const job = jobMessage();

    const results = [];
    for (const attempt of [1, 2, 3]) {
      results.push(
        await run(handler, { failTimes: 2 }, { ...job, attempt }).then(
          () => 'ok',
          (error: Error) => `${error.name}: ${error.message}`,
        ),
      );
    }

    expect(results).toEqual([
      'TransientJobError: Simulated transient failure 1 of 2.',
      'TransientJobError: Simulated transient failure 2 of 2.',
      'ok',
    ]);
  });

  it('decides by the attempt alone, so another instance or a restart sees the same outcome', async () => {
    const first = simulate();
    const second = simulate();
    const job = jobMessage();

    await run(first, { failTimes: 1 }, { ...job, attempt: 2 });
    await run(second, { failTimes: 1 }, { ...job, attempt: 2 });

    await expect(run(first, { failTimes: 1 }, { ...job, attempt: 1 })).rejects.toMatchObject({
      name: 'TransientJobError',
      message: 'Simulated transient failure 1 of 1.',
    });
  });

  it('runs a replay (a later attempt cycle) without the simulated failures, as if their cause was fixed', async () => {
    const handler = simulate();
    const job = jobMessage();

    await expect(
      run(handler, { failTimes: 2 }, { ...job, attempt: 1 }, new AbortController().signal, 2),
    ).resolves.toBeUndefined();
  });

  it('poisons with a permanent error and failAlways always fails transiently', async () => {
    const handler = simulate();

    await expect(run(handler, { poison: true })).rejects.toMatchObject({ name: 'PermanentJobError' });
    await expect(run(handler, { failAlways: true })).rejects.toMatchObject({ name: 'TransientJobError' });
  });

  it('stops sleeping when its signal aborts', async () => {
    const controller = new AbortController();
    const running = run(simulate(), { durationMs: 60_000 }, jobMessage(), controller.signal);

    controller.abort(new Error('timeout'));

    await expect(running).rejects.toThrow();
  });
});
