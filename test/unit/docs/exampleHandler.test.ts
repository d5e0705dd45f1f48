import type * as InvoiceSend from '../../../examples/handlers/invoiceSend';
import type * as Registry from '../../../src/jobs/jobTypes/handlerRegistry';
import type { JobsRuntime } from '../../../src/runtime';
import { embeddedRuntime } from '../../support/embeddedRuntime';
import { storedRecordWhen } from '../../support/jobFixtures';

// The README's edit of src/handlers/registeredHandlers.ts: the example joins the list of handlers the registry is
// built from (unless someone has copied it into src/handlers/ and registered it for real).
jest.mock('../../../src/jobs/jobTypes/handlerRegistry', () => {
  const actual = jest.requireActual<typeof Registry>('../../../src/jobs/jobTypes/handlerRegistry');
  const { createInvoiceSendHandler } = jest.requireActual<typeof InvoiceSend>(
    '../../../examples/handlers/invoiceSend',
  );
  class RegistryWithTheExample extends actual.HandlerRegistry {
    constructor(...[handlers, ...rest]: ConstructorParameters<typeof actual.HandlerRegistry>) {
      const registered = [...handlers];
      const registering = registered.some((handler) => handler.jobType === 'invoice.send')
        ? registered
        : [...registered, createInvoiceSendHandler()];
      super(registering, ...rest);
    }
  }
  return { ...actual, HandlerRegistry: RegistryWithTheExample };
});

describe("the README's example job type (examples/handlers/invoiceSend.ts)", () => {
  let runtime: JobsRuntime;

  beforeEach(() => {
    runtime = embeddedRuntime();
    runtime.start();
  });

  afterEach(async () => {
    await runtime.stop();
  });

  it('is registered beside the built-in job types', () => {
    expect(runtime.registry.jobTypes()).toEqual(
      expect.arrayContaining(['document.delete', 'document.upload', 'invoice.send']),
    );
  });

  it('runs a submitted job to completion on the embedded runtime', async () => {
    const { record } = await runtime.submission.submit({
      jobType: 'invoice.send',
      payload: { invoiceId: 'INV-1001' },
    });

    const done = await storedRecordWhen(runtime.store, record.jobId, (r) => r.status === 'Completed');

    expect(done).toMatchObject({ status: 'Completed', attempt: 1, deadLetterReason: null });
    expect(done.outcomes.map((outcome) => outcome.status)).toEqual(['Completed']);
  });

  it('dead-letters a job its handler refuses with PermanentJobError as Poisoned, without a retry', async () => {
    const { record } = await runtime.submission.submit({
      jobType: 'invoice.send',
      payload: { invoiceId: 'INV-1002', channel: 'post' },
    });

    const dead = await storedRecordWhen(runtime.store, record.jobId, (r) => r.status === 'DeadLettered');

    expect(dead).toMatchObject({ attempt: 1, deadLetterReason: 'Poisoned' });
    expect(dead.deadLetterDescription).toContain('post is not supported yet');
  });

  it('refuses an unknown payload field at submission, naming it', async () => {
    const submitting = runtime.submission.submit({
      jobType: 'invoice.send',
      payload: { invoiceID: 'INV-1003' },
    });

    await expect(submitting).rejects.toMatchObject({
      code: 'ValidationFailed',
      errors: expect.arrayContaining([expect.objectContaining({ field: '/payload/invoiceID' })]),
    });
  });
});
