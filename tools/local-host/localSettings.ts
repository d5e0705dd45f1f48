import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const localSettingsSchema = z.object({ Values: z.record(z.string(), z.string()).default({}) });

/**
 * The environment the local host runs with: `local.settings.json` Values as defaults under the real environment,
 * so `Jobs__UseServiceBus=true npm start` overrides the file as an app setting would.
 */
export function localEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  path = resolve(process.cwd(), 'local.settings.json'),
): Record<string, string | undefined> {
  if (!existsSync(path)) return { ...env };
  const parsed = localSettingsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path} is not a valid local.settings.json: ${parsed.error.message}`);
  return { ...parsed.data.Values, ...env };
}
