import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';

export interface ZipSummary {
  /** Size of the written archive. */
  readonly bytes: number;
  readonly entries: number;
  /** Sum of the files' sizes before compression. */
  readonly uncompressedBytes: number;
}

// The classic ZIP format's limits; past them an archive needs ZIP64, which this writer does not produce.
const maxEntries = 0xffff;
const maxOffset = 0xffffffff;
// Every entry gets the same timestamp (1980-01-01 00:00, the DOS epoch): the archive depends on the files only.
const dosTime = 0;
const dosDate = (0 << 9) | (1 << 5) | 1;
// Unix "version made by" and a regular file readable by everyone, as Core Tools marks its entries.
const madeByUnix = (3 << 8) | 20;
const regularFileMode = (0o100644 << 16) >>> 0;
const utf8Names = 0x0800;

/**
 * Writes `files` (paths relative to `root`, with `/`) to a ZIP archive at `zipPath`, each deflated at zlib's default
 * level (what `zip` and .NET's `ZipArchive` use by default) or stored when deflating does not make it smaller.
 */
export function zipFiles(zipPath: string, root: string, files: readonly string[]): ZipSummary {
  if (files.length > maxEntries) {
    throw new Error(`${files.length} files: more than a ZIP archive without ZIP64 holds (${maxEntries}).`);
  }
  const fd = openSync(zipPath, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  let uncompressedBytes = 0;
  const write = (buffer: Buffer) => {
    writeSync(fd, buffer);
    offset += buffer.length;
  };
  try {
    for (const file of files) {
      const data = readFileSync(join(root, file));
      const deflated = zlib.deflateRawSync(data);
      const stored = deflated.length >= data.length;
      const body = stored ? data : deflated;
      const name = Buffer.from(file, 'utf8');
      const crc = crc32(data);
      if (offset + 30 + name.length + body.length > maxOffset) {
        throw new Error('The archive would pass 4 GiB: more than a ZIP archive without ZIP64 holds.');
      }
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(utf8Names, 6);
      local.writeUInt16LE(stored ? 0 : 8, 8);
      local.writeUInt16LE(dosTime, 10);
      local.writeUInt16LE(dosDate, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(madeByUnix, 4);
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(utf8Names, 8);
      header.writeUInt16LE(stored ? 0 : 8, 10);
      header.writeUInt16LE(dosTime, 12);
      header.writeUInt16LE(dosDate, 14);
      header.writeUInt32LE(crc, 16);
      header.writeUInt32LE(body.length, 20);
      header.writeUInt32LE(data.length, 24);
      header.writeUInt16LE(name.length, 28);
      header.writeUInt32LE(regularFileMode, 38);
      header.writeUInt32LE(offset, 42);
      central.push(header, name);
      write(local);
      write(name);
      write(body);
      uncompressedBytes += data.length;
    }
    const directory = Buffer.concat(central);
    const directoryOffset = offset;
    write(directory);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(files.length, 8);
    end.writeUInt16LE(files.length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(directoryOffset, 16);
    write(end);
  } finally {
    closeSync(fd);
  }
  return { bytes: offset, entries: files.length, uncompressedBytes };
}

let crcTable: Uint32Array | undefined;

// zlib.crc32 arrived in Node 20.15 and 22.2; the table-driven version covers the Node 20 releases before it.
function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (data: Buffer) => number }).crc32;
  if (native) return native(data);
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
