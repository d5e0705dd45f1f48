import { InMemoryDocumentStore } from '../../../src/documents/inMemoryDocumentStore';
import { HandlerRegistry } from '../../../src/handlers/handlerRegistry';
import type { JobHandler } from '../../../src/handlers/jobHandler';
import { createHandlerRegistry } from '../../../src/handlers/registeredHandlers';
import { isPermanentJobError } from '../../../src/jobs/errors';
import { silentLogger } from '../../../src/jobs/logger';
import { jobMessage } from '../../support/jobFixtures';
import { scriptedHandler } from '../../support/testRuntimeParts';

function run(
  handler: JobHandler | undefined,
  payload: unknown,
  job = jobMessage(),
  signal = new AbortController().signal,
) {
  if (!handler) throw new Error('handler not registered');
  const parsed = handler.payloadSchema.parse(payload);
  return handler.handle(parsed, { job, attempt: job.attempt, signal, logger: silentLogger });
}

describe('HandlerRegistry', () => {
  it('refuses two handlers for one job type at start-up', () => {
    expect(() => new HandlerRegistry([scriptedHandler('a').handler, scriptedHandler('a').handler])).toThrow(
      expect.objectContaining({ code: 'DuplicateJobType' }),
    );
  });

  it('registers diagnostics.simulate only when diagnostics are enabled', () => {
    const documents = new InMemoryDocumentStore();

    expect(createHandlerRegistry({ documents, enableDiagnostics: false }).jobTypes()).toEqual([
      'document.delete',
      'document.upload',
    ]);
    expect(createHandlerRegistry({ documents, enableDiagnostics: true }).jobTypes()).toContain(
      'diagnostics.simulate',
    );
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

  it('fails transiently on its first failTimes runs of a job, then succeeds', async () => {
    const handler = simulate();
    const job = jobMessage();

    const results = [];
    for (let run_ = 0; run_ < 3; run_ += 1) {
      results.push(
        await run(handler, { failTimes: 2 }, job).then(
          () => 'ok',
          (error: Error) => error.name,
        ),
      );
    }

    expect(results).toEqual(['TransientJobError', 'TransientJobError', 'ok']);
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
