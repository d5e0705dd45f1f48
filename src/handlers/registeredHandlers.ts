import type { DocumentStore } from '../documents/documentStore';
import type { JobTypePolicyDefaults } from '../jobs/jobTypes/jobTypePolicy';
import { createDiagnosticsSimulateHandler } from './diagnosticsSimulate';
import { createDocumentDeleteHandler } from './documentDelete';
import { createDocumentUploadHandler } from './documentUpload';
import { HandlerRegistry } from '../jobs/jobTypes/handlerRegistry';

export interface HandlerDependencies {
  documents: DocumentStore;
  enableDiagnostics: boolean;
  /** The app's settings every job type's policy starts from. */
  policyDefaults?: JobTypePolicyDefaults;
}

/** Every job type the app runs. A new job type is one file in this folder and two lines here: its import and its entry below. */
export function createHandlerRegistry({
  documents,
  enableDiagnostics,
  policyDefaults,
}: HandlerDependencies): HandlerRegistry {
  return new HandlerRegistry(
    [
      createDocumentUploadHandler(documents),
      createDocumentDeleteHandler(documents),
      ...(enableDiagnostics ? [createDiagnosticsSimulateHandler()] : []),
    ],
    policyDefaults,
  );
}
