import { z } from 'zod';
import type { JobsRuntime } from '../runtime';
import { dashboardFile } from './dashboardFiles';
import { problem } from './httpProblem';
import { httpFunction } from './httpFunction';

const assetParams = z.object({ asset: z.string().min(1).max(64) });

/**
 * `GET /api/dashboard/{asset}`: the page's script and style sheet, by name from a fixed list (no path is ever
 * built from the request). Anonymous: a browser loads them without the key, and they hold no data.
 */
export function createDashboardAsset({ logger }: Pick<JobsRuntime, 'logger'>) {
  return httpFunction(logger, { params: assetParams, query: 'page' }, async ({ params }) => {
    const file = params.asset === 'index.html' ? undefined : await dashboardFile(params.asset);
    return file ?? problem(404, 'Not found', 'The dashboard has no such file.');
  });
}
