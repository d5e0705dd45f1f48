import { startLocalHost } from './localHost';
import { localEnvironment } from './localSettings';
import { runUntilSignalled } from './runUntilSignalled';

// `npm start`: the app on http://localhost:7071/api with no Azure, no Docker and no Core Tools.
runUntilSignalled(async () => {
  const host = await startLocalHost({ env: localEnvironment() });
  return { stop: () => host.close(), logger: host.runtime.logger };
});
