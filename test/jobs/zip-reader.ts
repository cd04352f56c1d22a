/**
 * A minimal zip reader for the tests: walks the central directory the way an extractor does
 * (APPNOTE.TXT 4.3.12, 4.3.16) and inflates each entry, so tests check the bytes cslr uploads,
 * not only that cslr's writer agrees with itself.
 */
import { inflateRawSync } from "node:zlib";

export interface ReadEntry {
  name: string;
  mode: number;
  method: number;
  flags: number;
  data: Uint8Array;
}

export function readZip(bytes: Uint8Array): ReadEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  if (view.getUint32(end, true) !== 0x06054b50) throw new Error("no end of central directory record");
  let count = view.getUint16(end + 10, true);
  const centralStart = view.getUint32(end + 16, true);
  if (count === 0xffff) {
    const locator = end - 20;
    if (view.getUint32(locator, true) !== 0x07064b50) throw new Error("no Zip64 locator");
    const record = Number(view.getBigUint64(locator + 8, true));
    if (view.getUint32(record, true) !== 0x06064b50) throw new Error("no Zip64 end record");
    count = Number(view.getBigUint64(record + 32, true));
  }
  const entries: ReadEntry[] = [];
  let at = centralStart;
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`bad central header ${i}`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressedSize = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const external = view.getUint32(at + 38, true);
    const offset = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    if (view.getUint32(offset, true) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const localName = view.getUint16(offset + 26, true);
    const localExtra = view.getUint16(offset + 28, true);
    const body = bytes.subarray(offset + 30 + localName + localExtra, offset + 30 + localName + localExtra + compressedSize);
    const data = method === 8 ? new Uint8Array(inflateRawSync(body)) : method === 0 ? body : null;
    if (!data) throw new Error(`unknown method ${method}`);
    if (Bun.hash.crc32(data) >>> 0 !== crc) throw new Error(`CRC mismatch for ${name}`);
    entries.push({ name, mode: external >>> 16, method, flags, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
