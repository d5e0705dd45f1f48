import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { InfrastructureError, errorMessage } from '../jobs/errors';
import type { DocumentStore, PromoteResult, StoredDocument } from './documentStore';

/**
 * Documents on Azure Blob Storage: clients upload to the staging container; `document.upload` copies a staged blob
 * into the documents container as `<container>/<documentId>` (server-side, metadata kept) and then deletes the
 * staged one. Containers are created on first use.
 */
export class BlobDocumentStore implements DocumentStore {
  private readonly staging: ContainerClient;
  private readonly documents: ContainerClient;
  private containersReady: Promise<void> | undefined;

  constructor(service: BlobServiceClient, stagingContainer: string, documentsContainer: string) {
    this.staging = service.getContainerClient(stagingContainer);
    this.documents = service.getContainerClient(documentsContainer);
  }

  async stage(stagingKey: string, document: StoredDocument): Promise<void> {
    await this.guard('stage', async () => {
      await this.ensureContainers();
      await this.staging.getBlockBlobClient(stagingKey).uploadData(document.content, {
        blobHTTPHeaders: { blobContentType: document.contentType },
        metadata: { ...document.metadata },
      });
    });
  }

  async promote(stagingKey: string, container: string, documentId: string): Promise<PromoteResult> {
    return this.guard('promote', async () => {
      await this.ensureContainers();
      const source = this.staging.getBlockBlobClient(stagingKey);
      const target = this.documents.getBlockBlobClient(documentName(container, documentId));
      if (!(await source.exists())) return (await target.exists()) ? 'alreadyMoved' : 'missing';
      // Copy Blob keeps content type and metadata, and within one account needs no SAS on the source.
      const copy = await target.beginCopyFromURL(source.url);
      await copy.pollUntilDone();
      await source.deleteIfExists();
      return 'moved';
    });
  }

  async remove(container: string, documentId: string): Promise<boolean> {
    return this.guard('delete', async () => {
      await this.ensureContainers();
      const deleted = await this.documents
        .getBlockBlobClient(documentName(container, documentId))
        .deleteIfExists();
      return deleted.succeeded;
    });
  }

  async get(container: string, documentId: string): Promise<StoredDocument | undefined> {
    return this.guard('read', async () => {
      await this.ensureContainers();
      const blob = this.documents.getBlockBlobClient(documentName(container, documentId));
      if (!(await blob.exists())) return undefined;
      const properties = await blob.getProperties();
      return {
        content: await blob.downloadToBuffer(),
        contentType: properties.contentType ?? 'application/octet-stream',
        metadata: properties.metadata ?? {},
      };
    });
  }

  private ensureContainers(): Promise<void> {
    this.containersReady ??= Promise.all([
      this.staging.createIfNotExists(),
      this.documents.createIfNotExists(),
    ]).then(
      () => undefined,
      (error: unknown) => {
        this.containersReady = undefined;
        throw error;
      },
    );
    return this.containersReady;
  }

  // One error type for every storage fault, so a handler failing on it reads "Blob Storage ... failed: ...".
  private async guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new InfrastructureError(
        'StoreUnavailable',
        `Blob Storage ${operation} failed: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

function documentName(container: string, documentId: string): string {
  return `${container}/${documentId}`;
}
