// Stands in for src/jobs/jobTypes/jobHandler.ts, so that handlers/invoiceSend.ts compiles here with the imports it
// has in src/handlers/. Copy invoiceSend.ts alone; this file is not part of the example.
export * from '../../../src/jobs/jobTypes/jobHandler';
