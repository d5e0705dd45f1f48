import type { TraceContext } from '../observability/traceContext';

export type TelemetryProperties = Readonly<Record<string, string>>;
export type TelemetryMeasurements = Readonly<Record<string, number>>;

export interface TrackedEvent {
  readonly name: string;
  readonly trace: TraceContext | undefined;
  readonly properties: TelemetryProperties;
  readonly measurements?: TelemetryMeasurements;
  /** When it happened, if not now. */
  readonly time?: Date;
}

export interface TrackedRequest {
  readonly name: string;
  readonly url: string;
  readonly startTime: Date;
  readonly durationMs: number;
  readonly resultCode: number;
  readonly success: boolean;
}

/**
 * Where telemetry goes: Application Insights when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, nowhere otherwise.
 * Items carry the trace context they belong to, so one job's request, attempts and outcome share an operation id.
 * Tracking never throws and never waits.
 */
export interface Telemetry {
  /** `false` when items go nowhere: callers skip building them. */
  readonly enabled: boolean;
  trackEvent(event: TrackedEvent): void;
  trackException(error: Error, trace: TraceContext | undefined, properties: TelemetryProperties): void;
  trackMetric(name: string, value: number, dimensions: TelemetryProperties): void;
  /** The incoming request an invocation served: the Functions host records these in Azure, the local host here. */
  trackRequest(request: TrackedRequest, trace: TraceContext): void;
  /**
   * Runs an invocation. A telemetry SDK that is slow to load waits until no invocation runs, so loading it never
   * delays a request.
   */
  trackActivity<T>(work: () => Promise<T>): Promise<T>;
  /** Sends everything tracked so far and stops: nothing is tracked afterwards. */
  close(): Promise<void>;
}

/** Telemetry switched off: tracking costs a call and nothing else. */
export const noTelemetry: Telemetry = {
  enabled: false,
  trackEvent() {},
  trackException() {},
  trackMetric() {},
  trackRequest() {},
  trackActivity: (work) => work(),
  close: async () => undefined,
};
