import { app } from '@azure/functions';
import { loadConfig } from './config';
import { assertExplicitSettlementSupported } from './functions/explicitSettlementSupport';
import { createFunctionTable } from './functions/functionTable';
import { toInvocationLogs, withInvocationLogs } from './functions/invocationLogs';
import { writeToStdout } from './jobs/support/logger';
import { createJobsRuntime } from './runtime';

// The Functions host's entry point (package.json "main"). Settings are validated here, once: a bad setting stops
// the worker at start-up with a message naming it, instead of failing the first request.
const config = loadConfig();
if (config.useServiceBus && config.serviceBus.settlement === 'explicit') {
  assertExplicitSettlementSupported();
  // Registers the SDK-type binding's message factory; only needed (and only loaded) in explicit mode.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@azure/functions-extensions-servicebus');
}

app.setup({ enableHttpStream: false });
// The app's log lines go through the invocation's context, so the host files them under the invocation's
// operation_Id at their level; outside an invocation they go to stdout.
const runtime = createJobsRuntime(config, { logWriter: toInvocationLogs(writeToStdout) });

for (const definition of createFunctionTable(runtime)) {
  if (definition.kind === 'http') {
    const { name, methods, route, authLevel } = definition;
    app.http(name, { methods, route, authLevel, handler: withInvocationLogs(definition.handler) });
  } else if (definition.kind === 'timer') {
    const { name, schedule } = definition;
    app.timer(name, { schedule, handler: withInvocationLogs(definition.handler) });
  } else {
    const { name, queueName, connection, autoCompleteMessages, sdkBinding } = definition;
    const handler = withInvocationLogs(definition.handler);
    app.serviceBusQueue(name, {
      queueName,
      connection,
      autoCompleteMessages,
      sdkBinding,
      cardinality: 'one',
      handler,
    });
  }
}

app.hook.appStart(() => runtime.start());
app.hook.appTerminate(async () => {
  await runtime.stop();
});
