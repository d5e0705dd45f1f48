import rhea from 'rhea';
import type { Message } from 'rhea';

/**
 * rhea's typings leave out the pieces of its codec a broker needs (section-level reading and writing,
 * typed maps), so they are declared here once, and nowhere else reaches into rhea's untyped surface.
 */
export interface TypedValue {
  value: unknown;
  descriptor?: { value: unknown };
  type: { typecode: number };
}
interface Reader {
  position: number;
  read(): TypedValue;
  remaining(): number;
}
interface Writer {
  write(value: unknown): void;
  toBuffer(): Buffer;
}
interface CodecTypes {
  Reader: new (buffer: Buffer) => Reader;
  Writer: new () => Writer;
  Map32(entries: unknown[]): unknown;
  described(descriptor: unknown, value: unknown): unknown;
  wrap(value: unknown): TypedValue;
  wrap_ulong(value: number): unknown;
  wrap_symbol(value: string): TypedValue;
  wrap_long(value: number | Buffer): TypedValue;
  wrap_int(value: number): TypedValue;
  wrap_timestamp(value: number): TypedValue;
  wrap_uuid(value: Buffer): TypedValue;
  wrap_array(values: unknown[], typecode: number, descriptor: undefined): unknown;
}
interface CodecMessage {
  decode(buffer: Buffer): Message;
  encode(message: unknown): Buffer;
  header(fields: HeaderFields): { described(): unknown };
  properties(fields: Record<string, unknown>): { described(): unknown };
  accepted(): { described(): unknown };
  rejected(fields: { error?: AmqpErrorFields }): { described(): unknown };
  released(): { described(): unknown };
  modified(fields: { delivery_failed?: boolean; undeliverable_here?: boolean }): { described(): unknown };
}

export const amqpTypes = rhea.types as unknown as CodecTypes;
export const amqpMessage = rhea.message as unknown as CodecMessage;

export interface AmqpErrorFields {
  condition: string;
  description?: string;
  info?: Record<string, unknown>;
}

export interface HeaderFields {
  durable?: boolean;
  priority?: number;
  ttl?: number;
  first_acquirer?: boolean;
  delivery_count?: number;
}

export const SECTION = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  sequence: 0x76,
  value: 0x77,
  footer: 0x78,
} as const;

const symbolicSections: Record<string, number> = {
  'amqp:header:list': SECTION.header,
  'amqp:delivery-annotations:map': SECTION.deliveryAnnotations,
  'amqp:message-annotations:map': SECTION.messageAnnotations,
  'amqp:properties:list': SECTION.properties,
  'amqp:application-properties:map': SECTION.applicationProperties,
  'amqp:data:binary': SECTION.data,
  'amqp:amqp-sequence:list': SECTION.sequence,
  'amqp:value:*': SECTION.value,
  'amqp:footer:map': SECTION.footer,
};

export interface RawSection {
  code: number;
  start: number;
  bytes: Buffer;
  value: TypedValue;
}

/** Splits an encoded AMQP message into its sections, keeping each section's original bytes. */
export function readSections(encoded: Buffer): RawSection[] {
  const reader = new amqpTypes.Reader(encoded);
  const sections: RawSection[] = [];
  while (reader.remaining() > 0) {
    const start = reader.position;
    const value = reader.read();
    const descriptor = value.descriptor?.value;
    const code = typeof descriptor === 'string' ? symbolicSections[descriptor] : Number(descriptor);
    if (code === undefined || !(code >= SECTION.header && code <= SECTION.footer)) {
      throw new Error(`not an AMQP message section (descriptor ${String(descriptor)})`);
    }
    sections.push({ code, start, bytes: encoded.subarray(start, reader.position), value });
  }
  return sections;
}

/** The alternating key/value entries of a typed AMQP map, types preserved. */
export function mapEntries(section: RawSection | undefined): TypedValue[] {
  const entries = section?.value.value;
  return Array.isArray(entries) ? [...(entries as TypedValue[])] : [];
}

export function setMapEntry(entries: TypedValue[], key: TypedValue, value: TypedValue): void {
  for (let i = 0; i < entries.length; i += 2) {
    if (entries[i]?.value === key.value) {
      entries[i + 1] = value;
      return;
    }
  }
  entries.push(key, value);
}

export function encodeMapSection(code: number, entries: TypedValue[]): Buffer {
  const writer = new amqpTypes.Writer();
  writer.write(amqpTypes.described(amqpTypes.wrap_ulong(code), amqpTypes.Map32(entries)));
  return writer.toBuffer();
}

export function encodeHeader(fields: HeaderFields): Buffer {
  const writer = new amqpTypes.Writer();
  writer.write(amqpMessage.header(fields).described());
  return writer.toBuffer();
}

export function encodeProperties(fields: Record<string, unknown>): Buffer {
  const writer = new amqpTypes.Writer();
  writer.write(amqpMessage.properties(fields).described());
  return writer.toBuffer();
}

const rawBytes = new WeakMap<object, Buffer>();
let capturing = false;

/**
 * rhea decodes format-0 transfers before a link sees them and drops the bytes, so a broker that must hand
 * messages on byte for byte could only re-encode them (losing AMQP types such as long vs int). Wrapping the
 * decoder keeps a weak reference from each decoded message to its bytes; nothing else changes.
 */
export function captureRawMessageBytes(): void {
  if (capturing) return;
  capturing = true;
  const decode = amqpMessage.decode.bind(amqpMessage);
  (rhea.message as unknown as CodecMessage).decode = (buffer: Buffer): Message => {
    const decoded = decode(buffer);
    rawBytes.set(decoded, buffer);
    return decoded;
  };
}

export function rawBytesOf(decoded: object): Buffer | undefined {
  return rawBytes.get(decoded);
}
