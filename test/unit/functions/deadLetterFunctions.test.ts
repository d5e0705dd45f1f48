import { HttpRequest } from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { createDiscardDeadLetter } from '../../../src/functions/discardDeadLetter';
import type { HttpFunctionDefinition } from '../../../src/functions/functionTable';
import { createFunctionTable } from '../../../src/functions/functionTable';
import { createReplayDeadLetter } from '../../../src/functions/replayDeadLetter';
import type { JobsRuntime } from '../../../src/runtime';
import { embeddedRuntime } from '../../support/embeddedRuntime';
import { invocationContext } from '../../support/invocationContext';

function request(method: string, sequenceNumber: string, body?: { text: string; contentType: string }) {
  return new HttpRequest({
    method,
    url: `http://localhost:7071/api/deadletters/${sequenceNumber}/replay`,
    params: { sequenceNumber },
    headers: body ? { 'content-type': body.contentType } : {},
    body: body ? { string: body.text } : undefined,
  });
}

function problemOf(response: HttpResponseInit): { errors?: Array<{ field: string }>; detail: string } {
  expect((response.headers as Record<string, string>)['Content-Type']).toBe('application/problem+json');
  return JSON.parse(String(response.body));
}

describe('dead-letter HTTP functions', () => {
  let runtime: JobsRuntime;

  beforeEach(() => {
    runtime = embeddedRuntime();
  });

  afterEach(() => runtime.stop());

  it('registers every dead-letter route with the admin (master key) auth level, answering HEAD and OPTIONS too', () => {
    const routes = createFunctionTable(runtime)
      .filter((definition): definition is HttpFunctionDefinition => definition.kind === 'http')
      .filter((definition) => definition.route.startsWith('deadletters'))
      .map(({ name, methods, route, authLevel }) => ({ name, methods, route, authLevel }));

    expect(routes).toEqual([
      {
        name: 'listDeadLetters',
        methods: ['GET', 'HEAD', 'OPTIONS'],
        route: 'deadletters',
        authLevel: 'admin',
      },
      {
        name: 'replayDeadLetters',
        methods: ['POST', 'OPTIONS'],
        route: 'deadletters/replay',
        authLevel: 'admin',
      },
      {
        name: 'replayDeadLetter',
        methods: ['POST', 'OPTIONS'],
        route: 'deadletters/{sequenceNumber}/replay',
        authLevel: 'admin',
      },
      // Unconstrained (no `:long`): `DELETE deadletters/abc` reaches the function, which answers 400 naming it.
      {
        name: 'discardDeadLetter',
        methods: ['DELETE', 'OPTIONS'],
        route: 'deadletters/{sequenceNumber}',
        authLevel: 'admin',
      },
      {
        name: 'discardDeadLetters',
        methods: ['POST', 'OPTIONS'],
        route: 'deadletters/discard',
        authLevel: 'admin',
      },
    ]);
  });

  it('when the sequence number is not a number, then the answer is 400 naming it', async () => {
    const replay = await createReplayDeadLetter(runtime)(request('POST', '12ab'), invocationContext());
    const discard = await createDiscardDeadLetter(runtime)(request('DELETE', '-1'), invocationContext());

    expect(replay.status).toBe(400);
    expect(problemOf(replay).errors).toEqual([expect.objectContaining({ field: 'sequenceNumber' })]);
    expect(discard.status).toBe(400);
  });

  it('when a replay body is not JSON, then the answer is 415 or 400', async () => {
    const replay = createReplayDeadLetter(runtime);

    const text = await replay(
      request('POST', '1', { text: 'payload=1', contentType: 'text/plain' }),
      invocationContext(),
    );
    const broken = await replay(
      request('POST', '1', { text: '{"payload":', contentType: 'application/json' }),
      invocationContext(),
    );

    expect(text.status).toBe(415);
    expect(problemOf(text).detail).toMatch(/application\/json/);
    expect(broken.status).toBe(400);
  });

  it('when the sequence number names no message, then the answer is 404', async () => {
    const response = await createReplayDeadLetter(runtime)(request('POST', '42'), invocationContext());

    expect(response.status).toBe(404);
    expect(problemOf(response).detail).toMatch(/sequence number 42/);
  });
});
