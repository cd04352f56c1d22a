/**
 * A deterministic zip writer (pure: bytes in, bytes out). The same entries in the same order
 * give the same bytes: timestamps are fixed, modes are normalised, nothing depends on the clock,
 * the user or the machine. Zip format per PKWARE's APPNOTE.TXT 6.3; Zip64 end records only when
 * there are more than 65,535 entries (sizes stay far below 4 GiB: src/jobs/pack.ts caps them).
 *
 * Written by hand rather than with a library: Bun's native zlib (Bun.deflateSync) and CRC-32
 * (Bun.hash.crc32) pack a 10,000-file tree about ten times faster than fflate's JavaScript
 * deflate, and smaller (see the commit that added this file for the measurements).
 *
 * Ray unpacks a `gcs://` working_dir with its own extractor (packaging.py, `unzip_package`):
 * files at the root of the zip (no top-level folder is stripped for gcs:// packages), the Unix
 * mode taken from the high 16 bits of each entry's external attributes and applied with chmod.
 */

const localHeaderSignature = 0x04034b50;
const centralHeaderSignature = 0x02014b50;
const endSignature = 0x06054b50;
const zip64EndSignature = 0x06064b50;
const zip64LocatorSignature = 0x07064b50;

/** 1980-01-01 00:00, the earliest DOS date: no clock leaks into the bytes. */
const dosDate = (0 << 9) | (1 << 5) | 1;
const dosTime = 0;
/** Made by: Unix (3), spec 2.0; needed: 2.0 (deflate), 4.5 for the Zip64 end record. */
const madeBy = (3 << 8) | 20;
const versionNeeded = 20;
const versionNeededZip64 = 45;
/** General purpose bit 11: the name is UTF-8 (APPNOTE 4.4.4); Python's zipfile honours it. */
const utf8Flag = 0x0800;
const stored = 0;
const deflated = 8;

/**
 * Regular file 0644 / 0755, directory 0755: the owner's umask does not change the package. A
 * file only its owner may read (0600, 0700: a key, a private config) stays private in the zip.
 */
const fileMode = 0o100644;
const executableMode = 0o100755;
const privateFileMode = 0o100600;
const privateExecutableMode = 0o100700;
const directoryMode = 0o040755;
/** MS-DOS directory attribute, set beside the Unix mode as Python's zipfile does. */
const dosDirectory = 0x10;

interface CentralRecord {
  name: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  externalAttributes: number;
  offset: number;
}

export interface ZipOptions {
  /** zlib level 0–9; 6 is zlib's default. */
  level?: number;
}

const encoder = new TextEncoder();

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

export class ZipWriter {
  private readonly parts: Uint8Array[] = [];
  private readonly records: CentralRecord[] = [];
  private offset = 0;
  private readonly level: number;

  constructor(options: ZipOptions = {}) {
    this.level = options.level ?? 6;
  }

  /** Bytes written so far (the archive without its central directory). */
  get size(): number {
    return this.offset;
  }

  /** Adds a file; it is stored instead of deflated when deflating does not make it smaller. */
  addFile(name: string, data: Uint8Array<ArrayBuffer>, executable: boolean, ownerOnly = false): void {
    const mode = ownerOnly ? (executable ? privateExecutableMode : privateFileMode) : executable ? executableMode : fileMode;
    const compressed = this.level > 0 ? Bun.deflateSync(data, { level: this.level as 1 }) : data;
    const useDeflate = this.level > 0 && compressed.length < data.length;
    this.add(name, useDeflate ? compressed : data, {
      method: useDeflate ? deflated : stored,
      crc: Bun.hash.crc32(data) >>> 0,
      size: data.length,
      externalAttributes: (mode << 16) >>> 0,
    });
  }

  /** Adds a directory entry (`name/`), for directories that would otherwise not exist. */
  addDirectory(name: string): void {
    this.add(name.endsWith("/") ? name : `${name}/`, new Uint8Array(0), {
      method: stored,
      crc: 0,
      size: 0,
      externalAttributes: ((directoryMode << 16) | dosDirectory) >>> 0,
    });
  }

  private add(name: string, body: Uint8Array, entry: { method: number; crc: number; size: number; externalAttributes: number }): void {
    const nameBytes = encoder.encode(name);
    const flags = isAscii(name) ? 0 : utf8Flag;
    if (entry.size >= 0xffffffff || this.offset >= 0xffffffff) {
      throw new Error(`zip: ${name} lies beyond 4 GiB; packages are capped far below that`);
    }
    const header = new Uint8Array(30 + nameBytes.length);
    const view = new DataView(header.buffer);
    view.setUint32(0, localHeaderSignature, true);
    view.setUint16(4, versionNeeded, true);
    view.setUint16(6, flags, true);
    view.setUint16(8, entry.method, true);
    view.setUint16(10, dosTime, true);
    view.setUint16(12, dosDate, true);
    view.setUint32(14, entry.crc, true);
    view.setUint32(18, body.length, true);
    view.setUint32(22, entry.size, true);
    view.setUint16(26, nameBytes.length, true);
    view.setUint16(28, 0, true);
    header.set(nameBytes, 30);
    this.records.push({
      name: nameBytes,
      flags,
      method: entry.method,
      crc: entry.crc,
      compressedSize: body.length,
      size: entry.size,
      externalAttributes: entry.externalAttributes,
      offset: this.offset,
    });
    this.parts.push(header, body);
    this.offset += header.length + body.length;
  }

  /** The whole archive. The writer must not be used afterwards. */
  finish(): Uint8Array {
    const centralStart = this.offset;
    for (const record of this.records) {
      const header = new Uint8Array(46 + record.name.length);
      const view = new DataView(header.buffer);
      view.setUint32(0, centralHeaderSignature, true);
      view.setUint16(4, madeBy, true);
      view.setUint16(6, versionNeeded, true);
      view.setUint16(8, record.flags, true);
      view.setUint16(10, record.method, true);
      view.setUint16(12, dosTime, true);
      view.setUint16(14, dosDate, true);
      view.setUint32(16, record.crc, true);
      view.setUint32(20, record.compressedSize, true);
      view.setUint32(24, record.size, true);
      view.setUint16(28, record.name.length, true);
      // extra field length, comment length, disk number start, internal attributes: all 0
      view.setUint32(38, record.externalAttributes, true);
      view.setUint32(42, record.offset, true);
      header.set(record.name, 46);
      this.parts.push(header);
      this.offset += header.length;
    }
    const centralSize = this.offset - centralStart;
    const count = this.records.length;
    if (count > 0xffff) this.parts.push(zip64End(count, centralSize, centralStart, this.offset));
    const end = new Uint8Array(22);
    const view = new DataView(end.buffer);
    view.setUint32(0, endSignature, true);
    view.setUint16(8, Math.min(count, 0xffff), true);
    view.setUint16(10, Math.min(count, 0xffff), true);
    view.setUint32(12, centralSize, true);
    view.setUint32(16, centralStart, true);
    this.parts.push(end);
    return concat(this.parts);
  }
}

/** Zip64 end of central directory record and its locator (APPNOTE 4.3.14, 4.3.15). */
function zip64End(count: number, centralSize: number, centralStart: number, recordOffset: number): Uint8Array {
  const bytes = new Uint8Array(56 + 20);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, zip64EndSignature, true);
  view.setBigUint64(4, 44n, true);
  view.setUint16(12, madeBy, true);
  view.setUint16(14, versionNeededZip64, true);
  // number of this disk, disk where the central directory starts: 0
  view.setBigUint64(24, BigInt(count), true);
  view.setBigUint64(32, BigInt(count), true);
  view.setBigUint64(40, BigInt(centralSize), true);
  view.setBigUint64(48, BigInt(centralStart), true);
  view.setUint32(56, zip64LocatorSignature, true);
  // disk with the Zip64 end record: 0
  view.setBigUint64(64, BigInt(recordOffset), true);
  view.setUint32(72, 1, true);
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
