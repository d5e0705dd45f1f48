/** The HTTP status of a storage SDK error (its `RestError`), if it carries one: no answer from the service has none. */
export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? (error as { statusCode?: number }).statusCode
    : undefined;
}
