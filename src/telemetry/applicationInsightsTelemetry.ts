import type { TokenCredential } from '@azure/core-auth';
import type * as OpenTelemetryApi from '@opentelemetry/api';
import type * as OpenTelemetryLogsApi from '@opentelemetry/api-logs';
import type * as ApplicationInsights from 'applicationinsights';
import { errorMessage } from '../jobs/errors';
import type { Logger } from '../jobs/support/logger';
import type { Telemetry, TelemetryProperties, TrackedEvent, TrackedRequest } from '../jobs/ports/telemetry';
import type { TraceContext } from '../jobs/observability/traceContext';

export interface ApplicationInsightsTelemetryOptions {
  readonly connectionString: string;
  /**
   * Set when the resource refuses local (key) authentication: the exporter then sends with an Entra token. Called
   * when the SDK loads, so the identity library is not loaded at start-up either.
   */
  readonly credential?: () => TokenCredential;
  readonly logger: Logger;
  /** Loading waits for the first invocation this long after start-up, then for a pause of `idleMs` after one... */
  readonly startupIdleMs?: number;
  readonly idleMs?: number;
  /** ...but starts at the latest this long after the app did, busy or not. */
  readonly maxDeferMs?: number;
  /** Items tracked before the SDK is ready are kept, up to this many; later ones are counted and reported. */
  readonly maxBuffered?: number;
}

interface LoadedSdk {
  readonly api: typeof OpenTelemetryApi;
  readonly logger: OpenTelemetryLogsApi.Logger;
  readonly severity: typeof OpenTelemetryLogsApi.SeverityNumber;
  readonly tracer: OpenTelemetryApi.Tracer;
  readonly meter: OpenTelemetryApi.Meter;
  readonly histograms: Map<string, OpenTelemetryApi.Histogram>;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

type PendingItem = (sdk: LoadedSdk) => void;

// A cold start exists to serve an invocation that is already waiting: let it come first, then load in the first pause.
const defaultStartupIdleMs = 5_000;
const defaultIdleMs = 250;
const defaultMaxDeferMs = 30_000;
const defaultMaxBuffered = 10_000;

/**
 * Application Insights through the `applicationinsights` 3.x SDK. Importing that SDK costs over a second of CPU,
 * all of it blocking, so it is never imported at start-up or inside an invocation: items are buffered and the SDK
 * is loaded once the app is idle (or at `maxDeferMs` at the latest), then everything buffered is sent in order.
 */
export class ApplicationInsightsTelemetry implements Telemetry {
  readonly enabled = true;
  private sdk: LoadedSdk | undefined;
  private loading: Promise<LoadedSdk | undefined> | undefined;
  private pending: PendingItem[] = [];
  private dropped = 0;
  private running = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly deadlineTimer: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly maxBuffered: number;
  private closed = false;

  constructor(private readonly options: ApplicationInsightsTelemetryOptions) {
    this.idleMs = options.idleMs ?? defaultIdleMs;
    this.maxBuffered = options.maxBuffered ?? defaultMaxBuffered;
    this.deadlineTimer = setTimeout(() => void this.load(), options.maxDeferMs ?? defaultMaxDeferMs);
    this.deadlineTimer.unref();
    this.loadWhenIdle(options.startupIdleMs ?? defaultStartupIdleMs);
  }

  /** Whether the SDK has been loaded (and everything buffered before sent to it). */
  get loaded(): boolean {
    return this.sdk !== undefined;
  }

  trackEvent({ name, trace, properties, measurements, time }: TrackedEvent): void {
    const timestamp = time ?? new Date();
    this.track(({ api, logger }) =>
      logger.emit({
        timestamp,
        context: contextOf(api, trace),
        // The Azure Monitor exporter turns a log record with this attribute into a custom event.
        attributes: { 'microsoft.custom_event.name': name, ...properties },
        body: measurements ? { measurements } : undefined,
      }),
    );
  }

  trackException(error: Error, trace: TraceContext | undefined, properties: TelemetryProperties): void {
    const timestamp = new Date();
    this.track(({ api, logger, severity }) =>
      logger.emit({
        timestamp,
        context: contextOf(api, trace),
        severityNumber: severity.ERROR,
        attributes: {
          'exception.type': error.name,
          'exception.message': error.message,
          'exception.stacktrace': error.stack ?? `${error.name}: ${error.message}`,
          ...properties,
        },
      }),
    );
  }

  trackMetric(name: string, value: number, dimensions: TelemetryProperties): void {
    this.track(({ meter, histograms }) => {
      let histogram = histograms.get(name);
      if (!histogram) histograms.set(name, (histogram = meter.createHistogram(name)));
      histogram.record(value, dimensions);
    });
  }

  trackRequest(request: TrackedRequest, trace: TraceContext): void {
    this.track(({ api, tracer }) => {
      const span = tracer.startSpan(
        request.name,
        {
          kind: api.SpanKind.SERVER,
          startTime: request.startTime,
          attributes: {
            'http.method': request.name.split(' ')[0] ?? 'GET',
            'http.url': request.url,
            'http.status_code': request.resultCode,
          },
        },
        contextOf(api, trace),
      );
      span.setStatus({ code: request.success ? api.SpanStatusCode.OK : api.SpanStatusCode.ERROR });
      span.end(request.startTime.getTime() + request.durationMs);
    });
  }

  async trackActivity<T>(work: () => Promise<T>): Promise<T> {
    this.running += 1;
    clearTimeout(this.idleTimer);
    try {
      return await work();
    } finally {
      this.running -= 1;
      if (this.running === 0) this.loadWhenIdle(this.idleMs);
    }
  }

  async close(): Promise<void> {
    // Items tracked from now on have nowhere to go; they are dropped rather than buffered forever.
    this.closed = true;
    if (!this.loading && this.pending.length === 0) {
      // Nothing was ever tracked: no reason to pay for loading the SDK.
      clearTimeout(this.idleTimer);
      clearTimeout(this.deadlineTimer);
      return;
    }
    const sdk = await this.load();
    await sdk?.flush();
    await sdk?.shutdown();
  }

  private track(item: PendingItem): void {
    if (this.closed) {
      this.dropped += 1;
      return;
    }
    if (this.sdk) {
      send(this.sdk, item, this.options.logger);
      return;
    }
    if (this.pending.length >= this.maxBuffered) this.dropped += 1;
    else this.pending.push(item);
  }

  private loadWhenIdle(afterMs: number): void {
    if (this.sdk || this.loading || this.closed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.running === 0) void this.load();
    }, afterMs);
    this.idleTimer.unref();
  }

  private load(): Promise<LoadedSdk | undefined> {
    this.loading ??= this.start().then((sdk) => {
      clearTimeout(this.idleTimer);
      clearTimeout(this.deadlineTimer);
      const { logger } = this.options;
      const pending = this.pending;
      this.pending = [];
      if (!sdk) return undefined;
      this.sdk = sdk;
      for (const item of pending) send(sdk, item, logger);
      if (this.dropped > 0)
        logger.warn('Telemetry items were dropped while Application Insights loaded', {
          dropped: this.dropped,
        });
      return sdk;
    });
    return this.loading;
  }

  private async start(): Promise<LoadedSdk | undefined> {
    const { connectionString, credential, logger } = this.options;
    try {
      const startedAt = performance.now();
      const { useAzureMonitor, flushAzureMonitor, shutdownAzureMonitor, api, logsApi } =
        await import('./applicationInsightsSdk');
      useAzureMonitor(azureMonitorOptions(connectionString, credential?.()));
      logger.info('Application Insights started', {
        loadMs: Math.round(performance.now() - startedAt),
        buffered: this.pending.length,
      });
      return {
        api,
        logger: logsApi.logs.getLogger('sdap-jobs'),
        severity: logsApi.SeverityNumber,
        tracer: api.trace.getTracer('sdap-jobs'),
        meter: api.metrics.getMeter('sdap-jobs'),
        histograms: new Map(),
        flush: flushAzureMonitor,
        shutdown: shutdownAzureMonitor,
      };
    } catch (error) {
      logger.error('Application Insights could not be started; telemetry is off', {
        error: errorMessage(error),
      });
      return undefined;
    }
  }
}

function azureMonitorOptions(
  connectionString: string,
  credential: TokenCredential | undefined,
): ApplicationInsights.AzureMonitorOpenTelemetryOptions {
  const off = { enabled: false };
  return {
    azureMonitorExporterOptions: { connectionString, credential, disableOfflineStorage: true },
    // Job events are what on-call engineers query: no sampling, neither by rate nor by the caller's trace flags.
    samplingRatio: 1,
    tracesPerSecond: 0,
    enableTraceBasedSamplingForLogs: false,
    enableLiveMetrics: false,
    // Only what the app tracks itself: in Azure the Functions host already records requests and dependencies.
    enableStandardMetrics: false,
    enablePerformanceCounters: false,
    enableAutoCollectExceptions: false,
    enableAutoCollectPerformance: false,
    enableAutoCollectDependencies: false,
    enableAutoCollectRequests: false,
    instrumentationOptions: {
      http: off,
      azureSdk: off,
      mongoDb: off,
      mySql: off,
      postgreSql: off,
      redis: off,
      redis4: off,
      console: off,
      bunyan: off,
      winston: off,
    },
  };
}

function contextOf(
  api: typeof OpenTelemetryApi,
  trace: TraceContext | undefined,
): OpenTelemetryApi.Context | undefined {
  if (!trace) return undefined;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    traceId: trace.traceId,
    spanId: trace.spanId,
    // Recorded whatever the caller's flag says: the app's own items are never sampled away.
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
  });
}

function send(sdk: LoadedSdk, item: PendingItem, logger: Logger): void {
  try {
    item(sdk);
  } catch (error) {
    logger.warn('A telemetry item could not be tracked', { error: errorMessage(error) });
  }
}
