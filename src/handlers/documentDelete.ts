import { z } from 'zod';
import { containerNameSchema, documentIdSchema } from '../documents/documentStore';
import type { DocumentStore } from '../documents/documentStore';
import { defineJobHandler } from '../jobs/jobTypes/jobHandler';

export const documentDeletePayloadSchema = z.object({
  container: containerNameSchema,
  documentId: documentIdSchema,
});

/** Removes a document; deleting one that is already gone succeeds, so a retry is harmless. */
export function createDocumentDeleteHandler(documents: DocumentStore) {
  return defineJobHandler({
    jobType: 'document.delete',
    payloadSchema: documentDeletePayloadSchema,
    async handle({ container, documentId }, { logger }) {
      const removed = await documents.remove(container, documentId);
      logger.info(removed ? 'Document deleted' : 'Document was already absent', { container, documentId });
    },
  });
}
