/**
 * Just enough unzip for working_dir packages (what Ray's job SDK uploads): stored and deflated
 * entries, no ZIP64, no encryption. Entries that would land outside the target folder are
 * refused. Unix permissions in the entry's external attributes are kept (executable scripts).
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { deflateRawSync, inflateRawSync } from "node:zlib";

export class ZipError extends Error {}

export function unzipTo(data: Uint8Array, target: string): number {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const eocd = findEndOfCentralDirectory(buf);
  const count = buf.readUInt16LE(eocd + 10);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new ZipError("ZIP64 archives are not supported by the stand-in");
  const root = resolve(target);
  mkdirSync(root, { recursive: true });
  let p = cdOffset;
  let files = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new ZipError("bad central directory entry");
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLength);
    p += 46 + nameLength + extraLength + commentLength;
    if (flags & 1) throw new ZipError(`${name}: encrypted entries are not supported`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff)
      throw new ZipError("ZIP64 archives are not supported by the stand-in");
    const path = resolve(root, name);
    if (name.startsWith("/") || (path !== root && !path.startsWith(root + sep))) throw new ZipError(`${name}: entry points outside the target folder`);
    if (name.endsWith("/")) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw new ZipError(`${name}: bad local header`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(start, start + compressedSize);
    let content: Buffer;
    if (method === 0) content = raw;
    else if (method === 8) content = inflateRawSync(raw);
    else throw new ZipError(`${name}: compression method ${method} is not supported`);
    if (content.length !== size || Bun.hash.crc32(content) >>> 0 !== crc) throw new ZipError(`${name}: size or CRC mismatch (corrupt archive)`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    const mode = (external >>> 16) & 0o777;
    if (mode) chmodSync(path, mode);
    files++;
  }
  return files;
}

function findEndOfCentralDirectory(buf: Buffer): number {
  const min = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) return i;
  }
  throw new ZipError("File is not a zip file (no end of central directory record)");
}

/** Creates a zip (deflated entries) from name → content; used by tests and handy for debugging. */
export function zipFiles(files: Record<string, string | Uint8Array>, modes: Record<string, number> = {}): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, value] of Object.entries(files)) {
    const data = Buffer.from(typeof value === "string" ? Buffer.from(value) : value);
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const crc = Bun.hash.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    locals.push(local, nameBytes, packed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(((0o100000 | (modes[name] ?? 0o644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}
