import { app } from '@azure/functions';
import { loadConfig } from './config';
import { assertExplicitSettlementSupported } from './functions/explicitSettlementSupport';
import { createFunctionTable } from './functions/functionTable';
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
const runtime = createJobsRuntime(config);

for (const definition of createFunctionTable(runtime)) {
  if (definition.kind === 'http') {
    const { name, methods, route, authLevel, handler } = definition;
    app.http(name, { methods, route, authLevel, handler });
  } else if (definition.kind === 'timer') {
    const { name, schedule, handler } = definition;
    app.timer(name, { schedule, handler });
  } else {
    const { name, queueName, connection, autoCompleteMessages, sdkBinding, handler } = definition;
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
app.hook.appTerminate(() => runtime.stop());
