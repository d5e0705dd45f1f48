import type * as dataTables from '@azure/data-tables';
import type * as storageBlob from '@azure/storage-blob';
import { azureCredential } from '../azureCredential';
import type { AppConfig } from '../config';
import type * as blobDocumentStore from '../documents/blobDocumentStore';
import type { DocumentStore } from '../documents/documentStore';
import type { JobStore } from '../jobs/ports/jobStore';
import type * as tableJobStore from './tableJobStore';

/** Fail within a second or two when storage is down, so a submission can answer 503 while the caller waits. */
const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };
const blobRetryOptions = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };

interface StorageStores {
  store: JobStore;
  documents: DocumentStore;
}

/**
 * The job store and document store on Azure Storage: by connection string (`JobsStorage`, else
 * `AzureWebJobsStorage`; Azurite's too), or by managed identity against the account's service URIs.
 * Connected on first use: loading the storage SDKs takes longer than the rest of the app's start-up, and a cold
 * start should not pay for it before the first call that needs storage.
 */
export function createStorageStores(config: AppConfig['store']): StorageStores {
  let connected: StorageStores | undefined;
  const stores = (): StorageStores => (connected ??= connectStorageStores(config));
  return {
    store: {
      create: (record, body) => stores().store.create(record, body),
      createAll: (jobs) => stores().store.createAll(jobs),
      get: (jobId) => stores().store.get(jobId),
      replace: (record, etag) => stores().store.replace(record, etag),
      remove: (jobId, etag) => stores().store.remove(jobId, etag),
      list: (query) => stores().store.list(query),
      findUnfinished: (query) => stores().store.findUnfinished(query),
      findFinished: (query) => stores().store.findFinished(query),
      stats: (query) => stores().store.stats(query),
    },
    documents: {
      stage: (stagingKey, document) => stores().documents.stage(stagingKey, document),
      promote: (stagingKey, container, documentId) =>
        stores().documents.promote(stagingKey, container, documentId),
      remove: (container, documentId) => stores().documents.remove(container, documentId),
      get: (container, documentId) => stores().documents.get(container, documentId),
    },
  };
}

function connectStorageStores(config: AppConfig['store']): StorageStores {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { TableClient } = require('@azure/data-tables') as typeof dataTables;
  const { BlobServiceClient } = require('@azure/storage-blob') as typeof storageBlob;
  const { TableJobStore } = require('./tableJobStore') as typeof tableJobStore;
  const { BlobDocumentStore } = require('../documents/blobDocumentStore') as typeof blobDocumentStore;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { connectionString, tableServiceUri, blobServiceUri, identity, jobsTable } = config;

  let tables: dataTables.TableClient;
  let blobs: storageBlob.BlobServiceClient;
  if (connectionString) {
    // Azurite speaks plain HTTP; the SDK refuses shared-key auth over HTTP unless told it is intended.
    const allowInsecureConnection = /UseDevelopmentStorage=true|=http:\/\//i.test(connectionString);
    tables = TableClient.fromConnectionString(connectionString, jobsTable, {
      retryOptions,
      allowInsecureConnection,
    });
    blobs = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: blobRetryOptions });
  } else if (tableServiceUri && blobServiceUri) {
    const credential = azureCredential(identity);
    tables = new TableClient(tableServiceUri, jobsTable, credential, { retryOptions });
    blobs = new BlobServiceClient(blobServiceUri, credential, { retryOptions: blobRetryOptions });
  } else {
    throw new Error('No job storage is configured.');
  }
  return {
    store: new TableJobStore(tables),
    documents: new BlobDocumentStore(blobs, config.stagingContainer, config.documentsContainer),
  };
}
