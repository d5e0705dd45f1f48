import type { JobsRuntime } from '../runtime';
import { dashboardFile } from './dashboardFiles';
import { httpFunction } from './httpFunction';

/**
 * `GET /api/dashboard`: the operator dashboard's page. Static: it reads everything through the job API, with the
 * function key it was opened with (`?code=`), and carries no data or key of its own.
 */
export function createDashboard({ logger }: Pick<JobsRuntime, 'logger'>) {
  return httpFunction(logger, { query: 'page' }, async ({ request }) => {
    const url = new URL(request.url);
    // The page's relative links (`dashboard/dashboard.js`) resolve from `/api/dashboard`, not from `…/dashboard/`.
    if (url.pathname.endsWith('/')) {
      url.pathname = url.pathname.replace(/\/+$/, '');
      return { status: 308, headers: { Location: url.toString() } };
    }
    return (await dashboardFile('index.html'))!;
  });
}
