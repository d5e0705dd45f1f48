import fc from 'fast-check';
import { isJobsError } from '../../../../src/jobs/errors';
import { parseJobMessage } from '../../../../src/jobs/model/jobMessage';
import { JobSubmissionService } from '../../../../src/jobs/submission/jobSubmissionService';
import { silentLogger } from '../../../../src/jobs/support/logger';
import { OutboxSender } from '../../../../src/jobs/submission/outboxSender';
import type { OutgoingJobMessage } from '../../../../src/jobs/model/outgoingJobMessage';
import { HandlerRegistry } from '../../../../src/jobs/jobTypes/handlerRegistry';
import { builtInPolicyDefaults } from '../../../../src/jobs/jobTypes/jobTypePolicy';
import { toServiceBusMessage } from '../../../../src/queue/serviceBusJobMessage';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { scriptedHandler } from '../../../support/testRuntimeParts';

function submissionService() {
  const sent: OutgoingJobMessage[] = [];
  const queue = {
    send: async (messages: readonly OutgoingJobMessage[]) => void sent.push(...messages),
  };
  const submission = new JobSubmissionService({
    registry: new HandlerRegistry([scriptedHandler().handler], builtInPolicyDefaults),
    store: new InMemoryJobStore(),
    sender: new OutboxSender({ queue, logger: silentLogger }),
    logger: silentLogger,
  });
  return { submission, sent };
}

// Strings around every limit (100, 128, 256 characters), with spaces at either end and characters beyond ASCII.
const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom(' ', ' k ', ''),
  );

const jobRequest = fc.record(
  {
    // Spaces around a job type are refused over HTTP (docs/api.md), as an unknown type is.
    jobType: fc.oneof(
      { arbitrary: fc.constant('test.scripted'), weight: 8 },
      { arbitrary: fc.constantFrom(' test.scripted ', 'test.scripted\n', 'unknown.type', ''), weight: 1 },
    ),
    payload: fc.record(
      { value: fc.integer(), note: fc.string({ maxLength: 20 }) },
      { requiredKeys: ['value'] },
    ),
    idempotencyKey: text(110),
    subjectId: text(270),
    correlationId: text(270),
    maxAttempts: fc.integer({ min: -2, max: 110 }),
  },
  { requiredKeys: ['jobType', 'payload'] },
);

const requestKey = fc.option(text(300), { nil: undefined });

describe('what submission accepts, the wire carries', () => {
  it('every job an accepted submission sends parses as the dispatcher parses it, and fits Service Bus; every refusal names its fields', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(jobRequest, { minLength: 1, maxLength: 3 }),
        requestKey,
        async (jobs, key) => {
          const { submission, sent } = submissionService();

          const outcome = await submission.submitBatch(jobs, { idempotencyKey: key }).then(
            () => 'accepted' as const,
            (error: unknown) => error,
          );

          if (outcome !== 'accepted') {
            expect(isJobsError(outcome) && outcome.code).toBe('ValidationFailed');
            expect((outcome as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
            return;
          }
          accepted += 1;
          expect(sent.length).toBeGreaterThan(0);
          for (const message of sent) {
            const parsed = parseJobMessage(toServiceBusMessage(message).body);
            expect(parsed).toEqual({ ok: true, job: message.job });
            expect(message.messageId.length).toBeLessThanOrEqual(128);
          }
        },
      ),
      { numRuns: 300 },
    );
    // Not vacuous: a good share of the generated submissions is accepted.
    expect(accepted).toBeGreaterThan(50);
  });

  it('a request key over the limit is refused, naming it, and nothing is recorded or sent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 101, maxLength: 400 }), async (padding) => {
        const { submission, sent } = submissionService();
        const key = `k${padding.replace(/\s/g, 'x')}`;

        const refusal = await submission
          .submit({ jobType: 'test.scripted', payload: { value: 1 } }, { idempotencyKey: key })
          .catch((error: unknown) => error);

        expect(refusal).toMatchObject({ code: 'ValidationFailed', errors: [{ field: '/idempotencyKey' }] });
        expect(sent).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
