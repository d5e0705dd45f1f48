// Stands in for src/handlers/jobHandler.ts, so that invoiceSend.ts compiles here with the imports it has in
// src/handlers/. Copy invoiceSend.ts alone; this file is not part of the example.
export * from '../../src/handlers/jobHandler';
