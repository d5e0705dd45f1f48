/**
 * The administration API's documents, as Service Bus writes them: Atom entries and feeds around `QueueDescription`
 * and `NamespaceInfo` (the schema the .NET, JavaScript and Python administration clients read), and the plain
 * `<Error>` body of a failed call.
 */

const ATOM = 'http://www.w3.org/2005/Atom';
const CONNECT = 'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect';
const INSTANCE = 'http://www.w3.org/2001/XMLSchema-instance';
const COUNTS = 'http://schemas.microsoft.com/netservices/2011/06/servicebus';
/** TimeSpan.MaxValue: how the service writes "never" (time to live, auto-delete on idle). */
export const NEVER = 'P10675199DT2H48M5.4775807S';

/** A queue as the administration API describes it. */
export interface QueueDescription {
  readonly name: string;
  readonly lockDurationMs: number;
  readonly maxDeliveryCount: number;
  readonly defaultMessageTimeToLiveMs: number;
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionHistoryTimeWindowMs: number;
  readonly deadLetteringOnMessageExpiration: boolean;
  readonly requiresSession: boolean;
  readonly forwardTo: string | undefined;
  readonly forwardDeadLetteredMessagesTo: string | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly accessedAt: Date;
  readonly counts: QueueCounts;
}

/** A queue's runtime counts, as `CountDetails` carries them. */
export interface QueueCounts {
  readonly active: number;
  readonly deadLetter: number;
  readonly scheduled: number;
  readonly total: number;
  readonly sizeInBytes: number;
}

export interface NamespaceDescription {
  readonly name: string;
  readonly createdAt: Date;
}

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An ISO-8601 duration the way .NET's XmlConvert writes a TimeSpan. */
export function isoDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms >= 10_675_199 * 86_400_000) return NEVER;
  const days = Math.floor(ms / 86_400_000);
  const hours = Math.floor((ms % 86_400_000) / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : days ? '' : 'T0S'}`;
}

function entry(
  baseUrl: string,
  path: string,
  title: string,
  content: string,
  times: { created: Date; updated: Date },
) {
  const self = escape(`${baseUrl}/${path}?api-version=2021-05`);
  return (
    `<entry xmlns="${ATOM}"><id>${self}</id><title type="text">${escape(title)}</title>` +
    `<published>${times.created.toISOString()}</published><updated>${times.updated.toISOString()}</updated>` +
    `<author><name>${escape(title)}</name></author><link rel="self" href="${self}"/>` +
    `<content type="application/xml">${content}</content></entry>`
  );
}

function queueDescriptionXml(queue: QueueDescription): string {
  const element = (name: string, value: string | number | boolean) =>
    `<${name}>${escape(String(value))}</${name}>`;
  const { counts } = queue;
  return (
    `<QueueDescription xmlns="${CONNECT}" xmlns:i="${INSTANCE}">` +
    element('LockDuration', isoDuration(queue.lockDurationMs)) +
    element('MaxSizeInMegabytes', 1024) +
    element('RequiresDuplicateDetection', queue.requiresDuplicateDetection) +
    element('RequiresSession', queue.requiresSession) +
    element('DefaultMessageTimeToLive', isoDuration(queue.defaultMessageTimeToLiveMs)) +
    element('DeadLetteringOnMessageExpiration', queue.deadLetteringOnMessageExpiration) +
    element('DuplicateDetectionHistoryTimeWindow', isoDuration(queue.duplicateDetectionHistoryTimeWindowMs)) +
    element('MaxDeliveryCount', queue.maxDeliveryCount) +
    element('EnableBatchedOperations', true) +
    element('SizeInBytes', counts.sizeInBytes) +
    element('MessageCount', counts.total) +
    element('IsAnonymousAccessible', false) +
    '<AuthorizationRules/>' +
    element('Status', 'Active') +
    (queue.forwardTo ? element('ForwardTo', queue.forwardTo) : '') +
    element('CreatedAt', queue.createdAt.toISOString()) +
    element('UpdatedAt', queue.updatedAt.toISOString()) +
    element('AccessedAt', queue.accessedAt.toISOString()) +
    element('SupportOrdering', true) +
    `<CountDetails xmlns:d2p1="${COUNTS}">` +
    `<d2p1:ActiveMessageCount>${counts.active}</d2p1:ActiveMessageCount>` +
    `<d2p1:DeadLetterMessageCount>${counts.deadLetter}</d2p1:DeadLetterMessageCount>` +
    `<d2p1:ScheduledMessageCount>${counts.scheduled}</d2p1:ScheduledMessageCount>` +
    '<d2p1:TransferMessageCount>0</d2p1:TransferMessageCount>' +
    '<d2p1:TransferDeadLetterMessageCount>0</d2p1:TransferDeadLetterMessageCount>' +
    '</CountDetails>' +
    element('AutoDeleteOnIdle', NEVER) +
    element('EnablePartitioning', false) +
    element('EntityAvailabilityStatus', 'Available') +
    (queue.forwardDeadLetteredMessagesTo
      ? element('ForwardDeadLetteredMessagesTo', queue.forwardDeadLetteredMessagesTo)
      : '') +
    element('EnableExpress', false) +
    element('MaxMessageSizeInKilobytes', 256) +
    '</QueueDescription>'
  );
}

export function queueEntry(baseUrl: string, queue: QueueDescription): string {
  return `<?xml version="1.0" encoding="utf-8"?>${queueEntryElement(baseUrl, queue)}`;
}

function queueEntryElement(baseUrl: string, queue: QueueDescription): string {
  return entry(baseUrl, queue.name, queue.name, queueDescriptionXml(queue), {
    created: queue.createdAt,
    updated: queue.updatedAt,
  });
}

/** A page of queues; `next` is the `$skip` of the following page, when there is one. */
export function queueFeed(
  baseUrl: string,
  queues: readonly QueueDescription[],
  page: { skip: number; top: number; next: number | undefined },
  now: Date,
): string {
  const self = escape(`${baseUrl}/$Resources/queues?$skip=${page.skip}&$top=${page.top}&api-version=2021-05`);
  const next =
    page.next === undefined
      ? ''
      : `<link rel="next" href="${escape(`${baseUrl}/$Resources/queues?$skip=${page.next}&$top=${page.top}&api-version=2021-05`)}"/>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?><feed xmlns="${ATOM}"><title type="text">Queues</title>` +
    `<id>${self}</id><updated>${now.toISOString()}</updated><link rel="self" href="${self}"/>${next}` +
    queues.map((queue) => queueEntryElement(baseUrl, queue)).join('') +
    '</feed>'
  );
}

/** An empty feed: the answer to a listing of entities the emulator does not have (topics). */
export function emptyFeed(baseUrl: string, title: string, path: string, now: Date): string {
  const self = escape(`${baseUrl}/${path}?api-version=2021-05`);
  return (
    `<?xml version="1.0" encoding="utf-8"?><feed xmlns="${ATOM}"><title type="text">${escape(title)}</title>` +
    `<id>${self}</id><updated>${now.toISOString()}</updated><link rel="self" href="${self}"/></feed>`
  );
}

export function namespaceEntry(baseUrl: string, namespace: NamespaceDescription): string {
  const content =
    `<NamespaceInfo xmlns="${CONNECT}" xmlns:i="${INSTANCE}">` +
    `<CreatedTime>${namespace.createdAt.toISOString()}</CreatedTime><MessagingSKU>Standard</MessagingSKU>` +
    `<ModifiedTime>${namespace.createdAt.toISOString()}</ModifiedTime><Name>${escape(namespace.name)}</Name>` +
    '<NamespaceType>Messaging</NamespaceType></NamespaceInfo>';
  return `<?xml version="1.0" encoding="utf-8"?>${entry(baseUrl, '$namespaceinfo', namespace.name, content, {
    created: namespace.createdAt,
    updated: namespace.createdAt,
  })}`;
}

export function errorDocument(status: number, detail: string): string {
  return `<Error><Code>${status}</Code><Detail>${escape(detail)}</Detail></Error>`;
}

/**
 * The properties a create or update request sets: each `QueueDescription` element the request names, by its local
 * name, as text. The clients write them in the schema's order with the default namespace; this reads them in any.
 */
export function readQueueDescription(body: string): Map<string, string> | undefined {
  const description = /<(?:\w+:)?QueueDescription\b[^>]*>([\s\S]*?)<\/(?:\w+:)?QueueDescription>/.exec(
    body,
  )?.[1];
  if (description === undefined)
    return /<(?:\w+:)?QueueDescription\b[^>]*\/>/.test(body) ? new Map() : undefined;
  const fields = new Map<string, string>();
  for (const match of description.matchAll(/<(?:\w+:)?(\w+)\b[^>]*?(?:\/>|>([^<]*)<\/(?:\w+:)?\1>)/g)) {
    fields.set(match[1]!, unescape(match[2] ?? ''));
  }
  return fields;
}

const unescape = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
