import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { localEnvironment } from '../local-host/localSettings';
import { withLocalServicePorts } from '../local-host/localServiceSettings';
import { UsageError } from './runCli';

/**
 * The settings a CLI runs with: the environment over `./local.settings.json` by default, as `npm start` reads them;
 * over another file when `--settings` names one; the environment alone with `--settings none`. Connections to the
 * local emulator and Azurite follow the port settings that move `npm run start:servicebus`.
 */
export function cliEnvironment(
  settings: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  if (settings === undefined) return withLocalServicePorts(localEnvironment(env));
  if (settings === 'none') return withLocalServicePorts(env);
  const path = resolve(settings);
  if (!existsSync(path)) throw new UsageError(`--settings: there is no file ${path}.`);
  return withLocalServicePorts(localEnvironment(env, path));
}
