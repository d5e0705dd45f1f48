import { z } from 'zod';
import { containerNameSchema, documentIdSchema, stagingKeySchema } from '../documents/documentStore';
import type { DocumentStore } from '../documents/documentStore';
import { PermanentJobError } from '../jobs/errors';
import { defineJobHandler } from '../jobs/jobTypes/jobHandler';

export const documentUploadPayloadSchema = z.object({
  stagingKey: stagingKeySchema,
  container: containerNameSchema,
  documentId: documentIdSchema,
});

/** Moves a staged upload into the documents area. Payloads carry identifiers only, never document bytes. */
export function createDocumentUploadHandler(documents: DocumentStore) {
  return defineJobHandler({
    jobType: 'document.upload',
    payloadSchema: documentUploadPayloadSchema,
    async handle({ stagingKey, container, documentId }, { logger }) {
      const result = await documents.promote(stagingKey, container, documentId);
      if (result === 'missing') {
        throw new PermanentJobError(
          `Staged object '${stagingKey}' does not exist and '${container}/${documentId}' was never stored.`,
        );
      }
      logger.info(result === 'moved' ? 'Document stored' : 'Document was already stored', {
        container,
        documentId,
      });
    },
  });
}
