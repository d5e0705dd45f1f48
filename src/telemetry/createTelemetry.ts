import { azureCredential } from '../azureCredential';
import type { AppConfig } from '../config';
import type { Logger } from '../jobs/support/logger';
import { ApplicationInsightsTelemetry } from './applicationInsightsTelemetry';
import type { Telemetry } from '../jobs/ports/telemetry';
import { noTelemetry } from '../jobs/ports/telemetry';

/** Application Insights when a connection string is set; otherwise telemetry is off and costs nothing. */
export function createTelemetry(settings: AppConfig['telemetry'], logger: Logger): Telemetry {
  if (!settings) return noTelemetry;
  const { connectionString, entraAuthentication, identity } = settings;
  return new ApplicationInsightsTelemetry({
    connectionString,
    credential: entraAuthentication ? () => azureCredential(identity) : undefined,
    logger: logger.child({ component: 'telemetry' }),
  });
}
