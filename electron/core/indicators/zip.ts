// The ZIP container of an XLSX or ODS state, opened by Pli before SheetJS sees it (docs/indicators.md
// 5): SheetJS trusts each entry's declared sizes, checks no CRC and inflates into Node Buffers
// outside the worker's heap limit, so a few MB of ZIP could take the whole process to gigabytes.
// Here, inside the reading worker: the central directory is walked and checked (no ZIP64, no
// multi-disk archive, no encryption, at most MAX_ENTRIES entries, no overlapping entries, no
// duplicate, absolute or `..` name), every entry is inflated with node:zlib under one budget for
// the whole file (maxOutputLength, whatever size is declared), its CRC-32 and size checked, and
// SheetJS gets a new ZIP of the same entries STORED (not compressed), so it inflates nothing.
import { crc32, inflateRawSync } from 'node:zlib';

/** A ZIP refused, and why (a few French words; sheet.ts makes it "non reconnu"). */
export class ZipRefused extends Error {}

/** Entries of one state: a real XLSX has about 10 to 20, an ODS fewer. */
export const MAX_ENTRIES = 200;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface Entry { name: Buffer; flags: number; method: number; crc: number; csz: number; usz: number; offset: number }

const damaged = (why: string) => new ZipRefused(`fichier illisible (tableur abîmé : ${why})`);

/** Bytes after the end record (and its comment) that are ignored, as SheetJS and unzip ignore them:
 * a file padded or appended to by a tool still reads. Its central directory is checked anyway. */
const TRAILING_MAX = 1024 * 1024;

function endOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes, then a comment of at most 65,535 bytes, then (rarely) trailing bytes:
  // the last record whose comment fits in the file.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff - TRAILING_MAX); i--) {
    if (zip.readUInt32LE(i) === EOCD && i + 22 + zip.readUInt16LE(i + 20) <= zip.length) return i;
  }
  throw damaged('fin d’archive introuvable');
}

function entriesOf(zip: Buffer): Entry[] {
  const end = endOfCentralDirectory(zip);
  if (end >= 20 && zip.readUInt32LE(end - 20) === ZIP64_LOCATOR) throw damaged('archive ZIP64');
  const disk = zip.readUInt16LE(end + 4);
  const cdDisk = zip.readUInt16LE(end + 6);
  const onDisk = zip.readUInt16LE(end + 8);
  const count = zip.readUInt16LE(end + 10);
  const cdSize = zip.readUInt32LE(end + 12);
  const cdStart = zip.readUInt32LE(end + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdStart === 0xffffffff) throw damaged('archive ZIP64');
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw damaged('archive en plusieurs morceaux');
  if (count > MAX_ENTRIES) throw new ZipRefused(`fichier illisible (plus de ${MAX_ENTRIES} parties dans le tableur)`);
  if (count === 0) throw damaged('archive vide');
  if (cdStart + cdSize > end) throw damaged('répertoire de l’archive hors du fichier');
  const entries: Entry[] = [];
  const names = new Set<string>();
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdStart + cdSize || zip.readUInt32LE(p) !== CENTRAL) throw damaged('répertoire de l’archive incohérent');
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const csz = zip.readUInt32LE(p + 20);
    const usz = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const entryDisk = zip.readUInt16LE(p + 34);
    const offset = zip.readUInt32LE(p + 42);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > cdStart + cdSize) throw damaged('répertoire de l’archive incohérent');
    const name = zip.subarray(p + 46, p + 46 + nameLength);
    if (csz === 0xffffffff || usz === 0xffffffff || offset === 0xffffffff || entryDisk === 0xffff) throw damaged('archive ZIP64');
    if (entryDisk !== 0) throw damaged('archive en plusieurs morceaux');
    // Bit 0: encrypted; bit 6: strong encryption; bit 13: central directory encrypted.
    if (flags & 0x2041) throw new ZipRefused('fichier illisible (archive protégée par un mot de passe)');
    if (method !== 0 && method !== 8) throw damaged(`méthode de compression ${method}`);
    const text = name.toString('utf8');
    if (nameLength === 0 || /^[/\\]|^[A-Za-z]:|(^|[/\\])\.\.([/\\]|$)|\0/.test(text)) throw damaged('nom de partie interdit');
    if (names.has(text)) throw damaged('partie en double');
    names.add(text);
    entries.push({ name, flags, method, crc, csz, usz, offset });
    p = next;
  }
  // Entries must lie one after another, before the central directory, none overlapping.
  const spans = entries.map((e) => {
    if (e.offset + 30 > cdStart || zip.readUInt32LE(e.offset) !== LOCAL) throw damaged('partie hors de l’archive');
    const start = e.offset + 30 + zip.readUInt16LE(e.offset + 26) + zip.readUInt16LE(e.offset + 28);
    const stop = start + e.csz;
    if (stop > cdStart) throw damaged('partie hors de l’archive');
    return { entry: e, start, stop };
  }).sort((a, b) => a.entry.offset - b.entry.offset);
  for (let i = 1; i < spans.length; i++) if (spans[i]!.entry.offset < spans[i - 1]!.stop) throw damaged('parties qui se chevauchent');
  return spans.map(({ entry, start }) => ({ ...entry, offset: start }));
}

/**
 * The entries of `bytes` (a ZIP) inflated under `budget` bytes for all of them together, checked,
 * and written again as a ZIP of STORED entries with their true sizes. Throws ZipRefused.
 * `inspect` sees each entry once inflated and checked, with the names of all entries (sheet.ts
 * measures an ODS's content.xml there, and takes its number styles out); bytes it returns are
 * written instead of the entry's (any growth counted in the budget); what it throws goes through.
 */
export function restoredZip(bytes: Uint8Array, budget: number, inspect?: (name: string, data: Buffer, names: readonly string[]) => Buffer | void): Buffer {
  const zip = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (zip.length < 22) throw damaged('archive tronquée');
  const entries = entriesOf(zip);
  const names = entries.map((e) => e.name.toString('utf8'));
  const tooBig = () => new ZipRefused(`fichier trop gros une fois décompressé (plus de ${Math.round(budget / 1024 / 1024)} Mio)`);
  let left = budget;
  const parts: { entry: Entry; data: Buffer }[] = [];
  for (const entry of entries) {
    const raw = zip.subarray(entry.offset, entry.offset + entry.csz);
    let data: Buffer;
    if (entry.method === 0) {
      data = raw;
    } else {
      try {
        // maxOutputLength stops the inflation as soon as the budget is passed: nothing larger is
        // ever allocated, whatever the entry declares.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, left + 1) });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig();
        throw damaged('partie compressée illisible');
      }
    }
    if (data.length > left) throw tooBig();
    left -= data.length;
    if (data.length !== entry.usz) throw damaged('taille annoncée fausse');
    if (crc32(data) !== entry.crc) throw damaged('somme de contrôle fausse');
    const replaced = inspect?.(entry.name.toString('utf8'), data, names);
    if (replaced && replaced !== data) {
      if (replaced.length > data.length) {
        left -= replaced.length - data.length;
        if (left < 0) throw tooBig();
      }
      parts.push({ entry: { ...entry, crc: crc32(replaced) }, data: replaced });
    } else parts.push({ entry, data });
  }
  return storedZip(parts);
}

/** A plain ZIP of STORED entries (no data descriptor, no extra field, no comment). */
function storedZip(parts: { entry: Entry; data: Buffer }[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const { entry, data } of parts) {
    const utf8 = entry.flags & 0x0800; // the name's encoding, as the original said
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(utf8, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt32LE(0x00210000, 10); // 1980-01-01 00:00
    local.writeUInt32LE(entry.crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(entry.name.length, 26);
    local.writeUInt16LE(0, 28);
    const head = Buffer.alloc(46);
    head.writeUInt32LE(CENTRAL, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(20, 6);
    head.writeUInt16LE(utf8, 8);
    head.writeUInt16LE(0, 10);
    head.writeUInt32LE(0x00210000, 12);
    head.writeUInt32LE(entry.crc, 16);
    head.writeUInt32LE(data.length, 20);
    head.writeUInt32LE(data.length, 24);
    head.writeUInt16LE(entry.name.length, 28);
    head.writeUInt32LE(at, 42);
    central.push(head, entry.name);
    chunks.push(local, entry.name, data);
    at += 30 + entry.name.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(at, 16);
  return Buffer.concat([...chunks, cd, end]);
}
