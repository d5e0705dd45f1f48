import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueSettings } from './emulatorConfig';
import type { QueueDescription } from './atomDocuments';
import {
  emptyFeed,
  errorDocument,
  namespaceEntry,
  queueEntry,
  queueFeed,
  readQueueDescription,
} from './atomDocuments';
import type { Namespace } from './namespace';
import { parseDuration } from './parseDuration';

const ATOM_TYPE = 'application/atom+xml;type=entry;charset=utf-8';
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_PAGE = 100;

/** What an administration call comes to: a status and an Atom (or error) document. */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

/**
 * Serves the Service Bus administration API (the management REST calls of `ServiceBusAdministrationClient`) for
 * queues: create, get, update, delete and list them, their runtime counts, and the namespace's properties. Topics
 * and anything else get `501 Not Implemented` with the reason; authorization headers are not checked, as the
 * emulator's SAS key is public.
 */
export function answerAdministrationRequest(
  namespace: Namespace,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  readBody(request).then(
    (body) => send(response, administer(namespace, request, body)),
    (error: Error) => send(response, { status: 413, body: errorDocument(413, error.message) }),
  );
}

function administer(namespace: Namespace, request: IncomingMessage, body: string): Answer {
  const url = new URL(request.url ?? '/', 'http://emulator');
  const baseUrl = `${(request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}`;
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  const method = request.method ?? 'GET';
  const lower = path.toLowerCase();
  const now = new Date();

  if (lower === '$namespaceinfo' && method === 'GET') {
    return { status: 200, body: namespaceEntry(baseUrl, namespace.description()), contentType: ATOM_TYPE };
  }
  if (lower === '$resources/queues' && method === 'GET') {
    const skip = pageNumber(url.searchParams.get('$skip'), 0);
    const top = pageNumber(url.searchParams.get('$top'), DEFAULT_PAGE) || DEFAULT_PAGE;
    const all = namespace.queueDescriptions();
    const page = all.slice(skip, skip + top);
    const next = skip + top < all.length ? skip + top : undefined;
    return { status: 200, body: queueFeed(baseUrl, page, { skip, top, next }, now), contentType: ATOM_TYPE };
  }
  if (lower === '$resources/topics' && method === 'GET') {
    return {
      status: 200,
      body: emptyFeed(baseUrl, 'Topics', '$Resources/topics', now),
      contentType: ATOM_TYPE,
    };
  }
  if (path === '' || path.includes('/') || path.startsWith('$') || namespace.isTopic(path)) {
    return notImplemented(method, path);
  }
  switch (method) {
    case 'GET': {
      const queue = namespace.queueDescription(path);
      return queue ? entryAnswer(baseUrl, queue, 200) : notFound(namespace, path);
    }
    case 'PUT':
      return putQueue(namespace, baseUrl, path, body, request.headers['if-match'] !== undefined);
    case 'DELETE':
      return namespace.deleteQueue(path) ? { status: 200, body: '' } : notFound(namespace, path);
    default:
      return notImplemented(method, path);
  }
}

function putQueue(
  namespace: Namespace,
  baseUrl: string,
  name: string,
  body: string,
  update: boolean,
): Answer {
  if (/<(?:\w+:)?TopicDescription\b/.test(body)) return notImplemented('PUT', `${name} (a topic)`);
  const fields = readQueueDescription(body);
  if (!fields) return badRequest(`The request body is not an Atom entry with a QueueDescription.`);
  const existing = namespace.queueDescription(name);
  if (update && !existing) return notFound(namespace, name);
  if (!update && existing) {
    return {
      status: 409,
      body: errorDocument(
        409,
        `The messaging entity '${name}' already exists. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
      ),
    };
  }
  const settings = toSettings(name, fields, existing);
  if (typeof settings === 'string') return badRequest(settings);
  if (existing) {
    for (const fixed of ['requiresSession', 'requiresDuplicateDetection'] as const) {
      if (settings[fixed] !== existing[fixed]) {
        return badRequest(
          `${fixed === 'requiresSession' ? 'RequiresSession' : 'RequiresDuplicateDetection'} cannot be changed after the queue is created.`,
        );
      }
    }
    namespace.updateQueue(settings);
  } else {
    namespace.createQueue(settings);
  }
  return entryAnswer(baseUrl, namespace.queueDescription(name)!, existing ? 200 : 201);
}

/** The settings a request asks for: the named fields over the queue's current ones (or the service's defaults). */
function toSettings(
  name: string,
  fields: Map<string, string>,
  existing: QueueDescription | undefined,
): QueueSettings | string {
  const problems: string[] = [];
  const duration = (field: string, fallback: number) => {
    const text = fields.get(field);
    if (text === undefined || text === '') return fallback;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) problems.push(`${field} '${text}' is not a positive duration.`);
    return ms ?? fallback;
  };
  const flag = (field: string, fallback: boolean) => {
    const text = fields.get(field)?.trim().toLowerCase();
    if (text === undefined || text === '') return fallback;
    if (text !== 'true' && text !== 'false') problems.push(`${field} '${text}' is not true or false.`);
    return text === 'true';
  };
  const count = (field: string, fallback: number) => {
    const text = fields.get(field);
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      problems.push(`${field} '${text}' is not a whole number from 1.`);
    return value;
  };
  const entityName = (field: string, fallback: string | undefined) => {
    const text = fields.get(field);
    if (text === undefined) return fallback;
    // The clients send forwarding targets as full addresses (sb://<namespace>/<queue>); the queue is the path.
    return text.replace(/^sb:\/\/[^/]+\//i, '').replace(/\/+$/, '') || undefined;
  };
  const settings: QueueSettings = {
    name: existing?.name ?? name,
    lockDurationMs: duration('LockDuration', existing?.lockDurationMs ?? 60_000),
    maxDeliveryCount: count('MaxDeliveryCount', existing?.maxDeliveryCount ?? 10),
    defaultMessageTimeToLiveMs: duration(
      'DefaultMessageTimeToLive',
      existing?.defaultMessageTimeToLiveMs ?? Infinity,
    ),
    requiresDuplicateDetection: flag(
      'RequiresDuplicateDetection',
      existing?.requiresDuplicateDetection ?? false,
    ),
    duplicateDetectionHistoryTimeWindowMs: duration(
      'DuplicateDetectionHistoryTimeWindow',
      existing?.duplicateDetectionHistoryTimeWindowMs ?? 600_000,
    ),
    deadLetteringOnMessageExpiration: flag(
      'DeadLetteringOnMessageExpiration',
      existing?.deadLetteringOnMessageExpiration ?? false,
    ),
    requiresSession: flag('RequiresSession', existing?.requiresSession ?? false),
    forwardTo: entityName('ForwardTo', existing?.forwardTo),
    forwardDeadLetteredMessagesTo: entityName(
      'ForwardDeadLetteredMessagesTo',
      existing?.forwardDeadLetteredMessagesTo,
    ),
  };
  return problems.length > 0 ? problems.join(' ') : settings;
}

const entryAnswer = (baseUrl: string, queue: QueueDescription, status: number): Answer => ({
  status,
  body: queueEntry(baseUrl, queue),
  contentType: ATOM_TYPE,
});

const notFound = (namespace: Namespace, name: string): Answer => ({
  status: 404,
  body: errorDocument(
    404,
    `The messaging entity 'sb://${namespace.description().name}.servicebus.windows.net/${name}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
  ),
});

const badRequest = (detail: string): Answer => ({ status: 400, body: errorDocument(400, detail) });

const notImplemented = (method: string, path: string): Answer => ({
  status: 501,
  body: errorDocument(
    501,
    `${method} /${path}: the Service Bus emulator's administration API serves queues (create, get, update, delete, ` +
      'list, runtime properties) and the namespace properties; topics, subscriptions and rules are not implemented.',
  ),
});

function pageNumber(text: string | null, fallback: number): number {
  const value = Number(text ?? fallback);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`The request body is over ${MAX_BODY_BYTES} bytes.`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, { status, body, contentType }: Answer): void {
  response.writeHead(status, {
    'Content-Type': contentType ?? 'application/xml; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}
