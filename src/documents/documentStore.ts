import { z } from 'zod';

/** Azure container naming rules, so a payload that passes here also works on Blob Storage. */
export const containerNameSchema = z
  .string()
  .regex(
    /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
    'must be 3-63 lowercase letters, digits or single hyphens',
  );
export const documentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be 1-255 letters, digits, ".", "_" or "-"');
export const stagingKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,1023}$/, 'must be 1-1024 letters, digits, ".", "_", "-" or "/"')
  .refine((key) => !key.split('/').includes('..'), 'must not contain ".." segments');

export interface StoredDocument {
  content: Buffer;
  contentType: string;
  metadata: Readonly<Record<string, string>>;
}

export type PromoteResult = 'moved' | 'alreadyMoved' | 'missing';

/** Where document bytes live: a staging area that clients upload to, and the documents area jobs move them into. */
export interface DocumentStore {
  stage(stagingKey: string, document: StoredDocument): Promise<void>;
  /**
   * Moves the staged object into `container` as `documentId`, metadata kept. Idempotent: when the staged object is
   * gone but the document exists, an earlier run already moved it (`alreadyMoved`).
   */
  promote(stagingKey: string, container: string, documentId: string): Promise<PromoteResult>;
  /** Removes the document; `false` when it was not there (which is not an error). */
  remove(container: string, documentId: string): Promise<boolean>;
  get(container: string, documentId: string): Promise<StoredDocument | undefined>;
}
