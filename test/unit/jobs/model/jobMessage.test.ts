import { parseJobMessage, toWireBody } from '../../../../src/jobs/model/jobMessage';
import { cSharpProducerBody } from '../../../support/jobFixtures';

function parsed(body: unknown) {
  const result = parseJobMessage(body);
  if (!result.ok) throw new Error(`expected a job, got: ${result.description}`);
  return result.job;
}

function refused(body: unknown): string {
  const result = parseJobMessage(body);
  if (result.ok) throw new Error('expected the body to be refused');
  return result.description;
}

describe('parseJobMessage', () => {
  it('parses the exact body the C# producer sends, ignoring isAtMaxAttempts', () => {
    const body = cSharpProducerBody({ payload: { documentId: 'd-1' }, isAtMaxAttempts: true });

    const job = parsed(body);

    expect(job).toEqual({
      jobId: body.jobId,
      jobType: 'diagnostics.simulate',
      subjectId: '',
      correlationId: '',
      idempotencyKey: '',
      attempt: 1,
      maxAttempts: 3,
      payload: { documentId: 'd-1' },
      createdAt: '2025-12-12T00:00:00+00:00',
    });
    expect(job).not.toHaveProperty('isAtMaxAttempts');
  });

  it('parses JSON text and UTF-8 bytes (with a byte-order mark) the same as an object', () => {
    const body = cSharpProducerBody();
    const text = JSON.stringify(body);

    expect(parsed(text)).toEqual(parsed(body));
    expect(parsed(Buffer.from(text, 'utf8'))).toEqual(parsed(body));
    expect(parsed(Buffer.from(`\ufeff${text}`, 'utf8'))).toEqual(parsed(body));
    expect(parsed(new Uint8Array(Buffer.from(text)))).toEqual(parsed(body));
  });

  it('parses a JSON string holding the job, as the JavaScript SDK sends `body: JSON.stringify(job)`, once only', () => {
    const body = cSharpProducerBody();
    const jsonText = JSON.stringify(body);

    expect(parsed(Buffer.from(JSON.stringify(jsonText), 'utf8'))).toEqual(parsed(body));
    expect(parsed(JSON.stringify(jsonText))).toEqual(parsed(body));
    expect(refused(JSON.stringify(JSON.stringify(jsonText)))).toMatch(/not a job object \(got a string\)/);
    expect(refused(JSON.stringify('hello'))).toMatch(/not a job object \(got a string\)/);
  });

  it('accepts PascalCase keys and leaves payload keys untouched', () => {
    const camel = cSharpProducerBody({ payload: { DocumentId: 'x' } });
    const pascal = Object.fromEntries(
      Object.entries(camel).map(([key, value]) => [key.charAt(0).toUpperCase() + key.slice(1), value]),
    );

    const job = parsed(pascal);

    expect(job).toEqual(parsed(camel));
    expect(job.payload).toEqual({ DocumentId: 'x' });
  });

  it('defaults attempt, maxAttempts and unset ids, and lower-cases an upper-case GUID', () => {
    const job = parsed({
      jobId: '3F2504E0-4F89-11D3-9A0C-0305E82C3301',
      jobType: 'document.delete',
      subjectId: null,
      payload: null,
      createdAt: '2025-12-12T10:11:12.1234567+01:00',
    });

    expect(job).toMatchObject({
      jobId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      subjectId: '',
      correlationId: '',
      idempotencyKey: '',
      attempt: 1,
      maxAttempts: 3,
      payload: null,
    });
  });

  it('reads a missing payload as null', () => {
    const { payload, ...withoutPayload } = cSharpProducerBody();

    expect(payload).toEqual({});
    expect(parsed(withoutPayload).payload).toBeNull();
  });

  it.each([
    ['an empty body', '', /empty/],
    ['nothing at all', undefined, /empty/],
    ['text that is not JSON', 'not json', /not JSON/],
    ['bytes that are not JSON', Buffer.from([0xff, 0x00, 0x41]), /not JSON/],
    ['a JSON array', '[1,2]', /not a job object \(got an array\)/],
    ['a JSON number', 42, /not a job object \(got a number\)/],
    ['a missing jobId', cSharpProducerBody({ jobId: undefined }), /jobId/],
    ['a jobId that is not a GUID', cSharpProducerBody({ jobId: 'job-1' }), /jobId/],
    ['an empty jobType', cSharpProducerBody({ jobType: '' }), /jobType/],
    ['attempt 0', cSharpProducerBody({ attempt: 0 }), /attempt/],
    ['a fractional maxAttempts', cSharpProducerBody({ maxAttempts: 2.5 }), /maxAttempts/],
    ['createdAt without an offset', cSharpProducerBody({ createdAt: '2025-12-12T00:00:00' }), /createdAt/],
  ])('refuses %s, saying what is wrong', (_, body, expected) => {
    expect(refused(body)).toMatch(expected);
  });
});

describe('toWireBody', () => {
  it('adds isAtMaxAttempts as the C# producer does, and round-trips through parseJobMessage', () => {
    const job = parsed(cSharpProducerBody({ attempt: 3, maxAttempts: 3 }));

    const wire = toWireBody(job);

    expect(wire.isAtMaxAttempts).toBe(true);
    expect(parsed(JSON.stringify(wire))).toEqual(job);
  });
});
