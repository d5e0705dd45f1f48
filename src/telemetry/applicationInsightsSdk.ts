/**
 * What Application Insights needs at run time, in one module that `ApplicationInsightsTelemetry` imports when it
 * starts, never at start-up: the SDK and the two OpenTelemetry APIs the app records through. One module, so that
 * the bundled deployment package can ship it as a file of its own, loaded only when telemetry is configured
 * (tools/package/bundleApp.ts).
 */
export { flushAzureMonitor, shutdownAzureMonitor, useAzureMonitor } from 'applicationinsights';
export * as api from '@opentelemetry/api';
export * as logsApi from '@opentelemetry/api-logs';
