import type { FieldError } from '../../src/jobs/errors';

/** An answer the app gave that is not a success; the message is the problem document's, field by field. */
class ApiError extends Error {}

/**
 * Calls a running app's HTTP API at `baseUrl` + `/api` + `path`: the parsed JSON answer, or an `ApiError` that says
 * what the app answered, or that nothing answers (in embedded mode the queue lives inside the running app).
 */
export async function callAppApi<T>(baseUrl: string, path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl.replace(/\/+$/, '')}/api${path}`, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ApiError(
      `Nothing is answering at ${baseUrl} (${cause}). In embedded mode (Jobs__UseServiceBus=false) the ` +
        'queue lives inside the running app: start it with `npm start`, or point --url at it.',
    );
  }
  const text = await response.text();
  if (response.ok) return JSON.parse(text) as T;
  throw new ApiError(describeProblem(response.status, text));
}

/** A POST with a JSON body. */
export function postJson(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** One indented line a failing field, to follow the error's message. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map(({ field, message }) => `\n  ${field || '(body)'}: ${message}`).join('');
}

function describeProblem(status: number, text: string): string {
  try {
    const problem = JSON.parse(text) as { title?: string; detail?: string; errors?: FieldError[] };
    return `${status} ${problem.title ?? ''}: ${problem.detail ?? ''}${formatFieldErrors(problem.errors ?? [])}`;
  } catch {
    return `${status}: ${text.slice(0, 500)}`;
  }
}
