import { BlobServiceClient } from '@azure/storage-blob';
import { BlobDocumentStore } from '../../src/documents/blobDocumentStore';
import { createHandlerRegistry } from '../../src/handlers/registeredHandlers';
import { isPermanentJobError } from '../../src/jobs/errors';
import { silentLogger } from '../../src/jobs/support/logger';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { jobMessage } from '../support/jobFixtures';

let azurite: StartedAzurite;
let service: BlobServiceClient;

beforeAll(async () => {
  azurite = await startAzurite();
  service = BlobServiceClient.fromConnectionString(azurite.connectionString);
});

afterAll(() => azurite?.close());

function documentHandlers(documents: BlobDocumentStore) {
  const registry = createHandlerRegistry({ documents, enableDiagnostics: false });
  const run = (jobType: string, payload: unknown) => {
    const handler = registry.get(jobType);
    if (!handler) throw new Error(`no handler for ${jobType}`);
    const job = jobMessage({ jobType, payload });
    return handler.handle(handler.payloadSchema.parse(payload), {
      job,
      attempt: 1,
      cycle: 1,
      signal: new AbortController().signal,
      logger: silentLogger,
      progress: () => undefined,
    });
  };
  return { run };
}

async function blobNames(container: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of service.getContainerClient(container).listBlobsFlat()) names.push(blob.name);
  return names;
}

describe('document handlers on Blob Storage (Azurite)', () => {
  it('when an upload runs twice, then the document exists once with its metadata and the staged blob is gone', async () => {
    const documents = new BlobDocumentStore(service, 'staging-a', 'documents-a');
    const { run } = documentHandlers(documents);
    await documents.stage('incoming/contract.pdf', {
      content: Buffer.from('%PDF-1.7 contract'),
      contentType: 'application/pdf',
      metadata: { owner: 'legal' },
    });
    const payload = { stagingKey: 'incoming/contract.pdf', container: 'contracts', documentId: 'c-1' };

    await run('document.upload', payload);
    await run('document.upload', payload);

    expect(await blobNames('documents-a')).toEqual(['contracts/c-1']);
    expect(await blobNames('staging-a')).toEqual([]);
    expect(await documents.get('contracts', 'c-1')).toEqual({
      content: Buffer.from('%PDF-1.7 contract'),
      contentType: 'application/pdf',
      metadata: { owner: 'legal' },
    });
  });

  it('when the staged object never existed, then the upload fails permanently', async () => {
    const { run } = documentHandlers(new BlobDocumentStore(service, 'staging-b', 'documents-b'));

    const error = await run('document.upload', {
      stagingKey: 'nothing-here',
      container: 'contracts',
      documentId: 'c-2',
    }).catch((caught: unknown) => caught);

    expect(isPermanentJobError(error)).toBe(true);
  });

  it('when a document is deleted twice, then both succeed and it is gone', async () => {
    const documents = new BlobDocumentStore(service, 'staging-c', 'documents-c');
    const { run } = documentHandlers(documents);
    await documents.stage('s/1', { content: Buffer.from('x'), contentType: 'text/plain', metadata: {} });
    await run('document.upload', { stagingKey: 's/1', container: 'contracts', documentId: 'c-3' });

    await run('document.delete', { container: 'contracts', documentId: 'c-3' });
    await run('document.delete', { container: 'contracts', documentId: 'c-3' });

    expect(await blobNames('documents-c')).toEqual([]);
  });
});
