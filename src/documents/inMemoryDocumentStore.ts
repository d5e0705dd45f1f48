import type { DocumentStore, PromoteResult, StoredDocument } from './documentStore';

/** Embedded-mode document store: lost on restart, like the rest of embedded mode. */
export class InMemoryDocumentStore implements DocumentStore {
  private readonly staged = new Map<string, StoredDocument>();
  private readonly documents = new Map<string, StoredDocument>();

  async stage(stagingKey: string, document: StoredDocument): Promise<void> {
    this.staged.set(stagingKey, document);
  }

  async promote(stagingKey: string, container: string, documentId: string): Promise<PromoteResult> {
    const key = documentKey(container, documentId);
    const staged = this.staged.get(stagingKey);
    if (!staged) return this.documents.has(key) ? 'alreadyMoved' : 'missing';
    this.documents.set(key, staged);
    this.staged.delete(stagingKey);
    return 'moved';
  }

  async remove(container: string, documentId: string): Promise<boolean> {
    return this.documents.delete(documentKey(container, documentId));
  }

  async get(container: string, documentId: string): Promise<StoredDocument | undefined> {
    return this.documents.get(documentKey(container, documentId));
  }
}

function documentKey(container: string, documentId: string): string {
  return `${container}/${documentId}`;
}
