import { randomBytes, randomUUID } from 'node:crypto';
import Module from 'node:module';

// The part of the Azure Functions Node.js worker (Azure/azure-functions-nodejs-worker) that an app meets, for loading
// a deployment package outside the host: the `@azure/functions-core` module the worker answers from its
// `Module.prototype.require` proxy (src/setupCoreModule.ts), the function registry and app hooks behind it, and an
// invocation as InvocationHandler.ts runs one (programming model → invocation model → arguments → the function →
// response). What the host sends over gRPC is built here as plain RPC objects; the gRPC layer itself is not.

/** An RPC typed value, as the worker hands it to the programming model (`RpcTypedData`). */
export type RpcTypedData = Readonly<Record<string, unknown>>;

interface RpcBindingInfo {
  readonly type: string;
  readonly direction: string;
  readonly [key: string]: unknown;
}

export interface RegisteredFunction {
  readonly name: string;
  readonly bindings: Readonly<Record<string, RpcBindingInfo>>;
  readonly callback: (...args: unknown[]) => unknown;
}

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(
    context: unknown,
    inputs: unknown[],
    callback: RegisteredFunction['callback'],
  ): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResponse>;
}

interface ProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreContext: unknown): InvocationModel;
}

export interface InvocationResponse {
  readonly returnValue?: RpcTypedData | null;
  readonly outputData?: ReadonlyArray<{ readonly name: string; readonly data: RpcTypedData }>;
}

export interface WorkerLogLine {
  readonly level: string;
  readonly category: string;
  readonly message: string;
}

export interface WorkerStandIn {
  readonly functions: Map<string, RegisteredFunction>;
  /** The programming model the app's `@azure/functions` set, once it has. */
  programmingModel(): ProgrammingModel | undefined;
  /** Runs the app hooks of one kind (`appStart`, `appTerminate`) in registration order, as the worker does. */
  runHooks(name: 'appStart' | 'appTerminate'): Promise<void>;
  /**
   * Invokes a registered function with the trigger's input and metadata as the host sends them; the function's
   * own log lines are collected in `logs`.
   */
  invoke(
    name: string,
    trigger: RpcTypedData,
    triggerMetadata?: Record<string, RpcTypedData>,
  ): Promise<InvocationResponse>;
  readonly logs: WorkerLogLine[];
}

/** Answers `require('@azure/functions-core')` from here on, in this process, as the worker does. */
export function installWorkerStandIn(): WorkerStandIn {
  const functions = new Map<string, RegisteredFunction>();
  const hooks = new Map<string, Array<(context: unknown) => unknown>>();
  const logs: WorkerLogLine[] = [];
  let model: ProgrammingModel | undefined;
  const disposable = { dispose: () => undefined };
  const coreApi = {
    version: '3.10.1',
    hostVersion: '4.1040.0',
    setProgrammingModel: (programmingModel: ProgrammingModel) => {
      model = programmingModel;
    },
    getProgrammingModel: () => model,
    registerFunction: (
      metadata: { name: string; functionId?: string; bindings: Record<string, RpcBindingInfo> },
      callback: RegisteredFunction['callback'],
    ) => {
      const id = metadata.functionId ?? metadata.name;
      if (functions.has(id)) throw new Error(`A function with id "${id}" has already been registered.`);
      functions.set(id, { name: metadata.name, bindings: metadata.bindings, callback });
      return disposable;
    },
    registerHook: (name: string, callback: (context: unknown) => unknown) => {
      hooks.set(name, [...(hooks.get(name) ?? []), callback]);
      return disposable;
    },
    log: (level: string, category: string, message: string) => logs.push({ level, category, message }),
    Disposable: class {
      constructor(private readonly onDispose: () => void) {}
      dispose() {
        this.onDispose();
      }
    },
  };
  const proxied = Module.prototype.require;
  Module.prototype.require = new Proxy(proxied, {
    apply(target, thisArg, args: unknown[]) {
      return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args);
    },
  });

  return {
    functions,
    logs,
    programmingModel: () => model,
    async runHooks(name) {
      const context = { hookData: {}, appHookData: {}, functionAppDirectory: process.cwd() };
      for (const hook of hooks.get(name) ?? []) await hook(context);
    },
    async invoke(name, trigger, triggerMetadata = {}) {
      const registered = functions.get(name);
      if (!registered) throw new Error(`Function code for '${name}' is not loaded and cannot be invoked.`);
      if (!model) throw new Error('No programming model was set.');
      const triggerName = Object.entries(registered.bindings).find(([, binding]) =>
        /Trigger$/i.test(binding.type),
      )?.[0];
      if (!triggerName) throw new Error(`${name} has no trigger binding.`);
      const invocationId = randomUUID();
      const coreContext = {
        invocationId,
        request: {
          invocationId,
          functionId: name,
          inputData: [{ name: triggerName, data: trigger }],
          triggerMetadata,
          traceContext: {
            traceParent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
            traceState: '',
            attributes: {},
          },
          retryContext: null,
        },
        metadata: { name: registered.name, bindings: registered.bindings },
        state: undefined as string | undefined,
        log: (level: string, category: string, message: string) => logs.push({ level, category, message }),
      };
      const invocationModel = model.getInvocationModel(coreContext);
      const { context, inputs } = await invocationModel.getArguments();
      coreContext.state = 'invocation';
      const result = await invocationModel.invokeFunction(context, inputs, registered.callback);
      coreContext.state = undefined;
      return invocationModel.getResponse(context, result);
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An HTTP trigger's input as the host sends it (`RpcHttp`); `params` are the route's values, as the host fills them. */
export function rpcHttpRequest(
  method: string,
  url: string,
  options: { body?: unknown; headers?: Record<string, string>; params?: Record<string, string> } = {},
): RpcTypedData {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return {
    http: {
      method,
      url,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers },
      query: Object.fromEntries(new URL(url).searchParams),
      params: options.params ?? {},
      body: body === undefined ? undefined : { string: body },
    },
  };
}

/** The HTTP answer in an invocation response (`$return` or an http output binding). */
export function httpAnswerOf(response: InvocationResponse): HttpAnswer {
  const http = [response.returnValue, ...(response.outputData ?? []).map(({ data }) => data)].find(
    (data) => data && 'http' in data,
  )?.http as
    | { statusCode?: string | number; headers?: Record<string, string>; body?: Record<string, unknown> }
    | undefined;
  if (!http) throw new Error('The invocation answered no HTTP response.');
  const body = http.body ?? {};
  const text =
    typeof body.string === 'string'
      ? body.string
      : body.bytes
        ? Buffer.from(body.bytes as Uint8Array).toString('utf8')
        : typeof body.json === 'string'
          ? body.json
          : '';
  return { status: Number(http.statusCode ?? 200), headers: http.headers ?? {}, body: text };
}
