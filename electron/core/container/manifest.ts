// The encrypted manifest (docs/format.md 5.3) and the file-name rules, checked when writing and
// again when reading: a name inside a container must be safe to create on Windows and Linux alike.
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { inputError, securityError } from '../errors.js';
import { isIdentityId } from '../../../shared/ids.js';
import { visibleOnly } from '../../../shared/text.js';

export const MAX_MANIFEST = 1024 * 1024;
export const MAX_FILES = 10000;

// Windows device names: the part before the first dot, trailing spaces ignored, names the device
// whatever the extension ("CON .txt", "nul.tar.gz"); the superscript digits ¹²³ count as digits.
const RESERVED = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$) *(\..*)?$/iu;
const CONTROL = /[\p{Cc}]/u;
const LONE_SURROGATE = /\p{Cs}/u;
// Bidirectional embeddings, overrides and isolates: "facture\u202efdp.exe" shows as "facture exe.pdf".
const BIDI = /[\u202a-\u202e\u2066-\u2069]/u;
// Invisible characters: format characters (zero-width space and joiners, marks, BOM, soft hyphen,
// tags...) and the line and paragraph separators, which terminals show as line breaks.
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Returns the reason a name is refused, or null when it is acceptable. The one rule set of
 * docs/format.md 5.3: the writer checks it before sealing, the reader before writing anything.
 */
export function fileNameProblem(name: string): string | null {
  if (name.length === 0) return 'nom vide';
  if (LONE_SURROGATE.test(name)) return 'nom mal encodé';
  if (name.normalize('NFC') !== name) return 'nom non normalisé (NFC)';
  if (Buffer.byteLength(name, 'utf8') > 255) return 'nom trop long';
  if (name.includes('/') || name.includes('\\')) return 'nom contenant un dossier';
  if (name === '.' || name === '..') return 'nom réservé';
  if (CONTROL.test(name)) return 'caractère de contrôle dans le nom';
  if (BIDI.test(name)) return 'caractère qui inverse le sens d’écriture dans le nom (il peut déguiser l’extension)';
  if (INVISIBLE.test(name)) return 'caractère invisible dans le nom';
  if (name.startsWith('.')) return 'nom commençant par un point (fichier caché)';
  if (/[<>:"|?*]/.test(name)) return 'caractère interdit sous Windows dans le nom';
  if (/[. ]$/.test(name)) return 'nom terminé par un point ou une espace';
  if (RESERVED.test(name)) return 'nom réservé par Windows';
  return null;
}

/**
 * The key under which two names collide: NFC, then full case folding approximated code point by
 * code point (lower, upper, lower: "ß", "ẞ" and "SS" all give "ss", "ς" gives "σ", "ﬁ" gives "fi"),
 * then NFC again. Folding more than a file system does only refuses more pairs.
 */
export const foldName = (name: string): string =>
  Array.from(name.normalize('NFC'), (c) => c.toLowerCase().toUpperCase().toLowerCase()).join('').normalize('NFC');

/** Largest |mtime| (ms) the writer writes: JavaScript's date range (beyond, it writes null). The
 * reader takes up to 2^53 - 1, as every earlier writer wrote, and dates a file only within this
 * range (sinks.ts finish): docs/format.md 5.3. */
export const MAX_MTIME_MS = 8.64e15;
/** Longest `type`, in Unicode code points (zod counts a string's length in code points). */
export const MAX_TYPE_LENGTH = 255;

const fileSchema = lazySchema((z) => z.strictObject({
  name: z.string(),
  type: z.string().max(MAX_TYPE_LENGTH),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  // Dates before 1970 are negative: a file can legitimately carry one.
  mtime: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullable(),
}));
/** A convention's period (docs/convention.md 6): `2026-T4`, `2026-S2` or `2026-11`. */
export const PERIOD_PATTERN = /^\d{4}-(T[1-4]|S[12]|0[1-9]|1[0-2])$/;
const visible = (zod: typeof z, max: number) => zod.string().min(1).max(max).refine(visibleOnly);
/** Minor version 1 (docs/format.md 5.3): what the container is sent under. Inside the encrypted,
 * signed payload: the signature covers it, and nobody on the way sees it. */
const conventionSchema = lazySchema((z) => z.strictObject({
  id: z.string().regex(/^conv-[0-9a-hjkmnp-tv-z]{16}$/),
  period: z.string().regex(PERIOD_PATTERN),
  documents: z.array(visible(z, 100)).min(1).max(20).refine((d) => new Set(d).size === d.length),
  subject: visible(z, 200).optional(),
}));
// Minor 0 is the original v1 manifest, byte for byte (no `minor` key); minor 1 adds `convention`,
// required there and refused anywhere else.
const manifestSchema = lazySchema((z) => z.union([
  z.strictObject({
    v: z.literal(1),
    sender: z.string().refine(isIdentityId),
    files: z.array(fileSchema()).max(MAX_FILES),
  }),
  z.strictObject({
    v: z.literal(1),
    minor: z.literal(1),
    sender: z.string().refine(isIdentityId),
    files: z.array(fileSchema()).max(MAX_FILES),
    convention: conventionSchema(),
  }),
]));

export type ManifestFile = z.infer<ReturnType<typeof fileSchema>>;
export type ManifestConvention = z.infer<ReturnType<typeof conventionSchema>>;
export interface Manifest {
  v: 1;
  /** 1 when `convention` is present; absent otherwise (the original v1 manifest). */
  minor?: 1;
  sender: string;
  files: ManifestFile[];
  convention?: ManifestConvention;
}

function checkNames(files: ManifestFile[], fail: (message: string) => never): void {
  const folded = new Set<string>();
  for (const file of files) {
    const problem = fileNameProblem(file.name);
    if (problem) fail(`« ${printable(file.name)} » : ${problem}`);
    const key = foldName(file.name);
    if (folded.has(key)) fail(`« ${printable(file.name)} » : deux fichiers portent ce nom (sans tenir compte des majuscules)`);
    folded.add(key);
  }
}

/**
 * For messages: control, format (bidirectional, zero-width) and separator characters, and lone
 * surrogates, shown as <U+XXXX>, so a hostile name can neither rewrite the terminal nor disguise
 * itself in the message that refuses it.
 */
export function printable(name: string): string {
  const shown = name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
  return shown.length > 300 ? `${Array.from(shown).slice(0, 300).join('')}…` : shown;
}

/**
 * The manifest's one serialisation (docs/format.md 5.3): keys in the format's order, built here
 * key by key whatever the order of the object given, then JSON.stringify (no whitespace, no
 * BOM). The writer writes these bytes and the reader accepts no others.
 */
function canonicalJson(manifest: Manifest): string {
  const files = manifest.files.map((f) => ({ name: f.name, type: f.type, size: f.size, mtime: f.mtime }));
  const c = manifest.convention;
  // Without a convention, the v1 manifest as it always was (no `minor` key): older readers keep
  // reading every container sent outside a convention.
  const ordered = c
    ? {
      v: manifest.v, minor: manifest.minor, sender: manifest.sender, files,
      convention: { id: c.id, period: c.period, documents: c.documents, ...(c.subject !== undefined ? { subject: c.subject } : {}) },
    }
    : { v: manifest.v, sender: manifest.sender, files };
  return JSON.stringify(ordered);
}

/** A file's date as the manifest carries it: whole milliseconds, or null when the date is not a
 * JavaScript date (not finite, or beyond ±8.64e15 ms: a file system can hold one, and no reader
 * could give it back). */
const manifestMtime = (mtime: number | null): number | null =>
  mtime !== null && Number.isFinite(mtime) && Math.abs(Math.floor(mtime)) <= MAX_MTIME_MS ? Math.floor(mtime) : null;

/** Writes exactly what a reader accepts: same schema, same name rules (checked here too). */
export function encodeManifest(input: Manifest): Buffer {
  const files = input.files.map((f) => ({ ...f, mtime: manifestMtime(f.mtime) }));
  const manifest: Manifest = input.convention
    ? { v: 1, minor: 1, sender: input.sender, files, convention: input.convention }
    : { v: 1, sender: input.sender, files };
  if (manifest.files.length > MAX_FILES) {
    throw inputError('too-many-files', `Trop de fichiers dans un même pli (${MAX_FILES} au plus) : répartissez-les en plusieurs plis.`);
  }
  checkNames(manifest.files, (message) => {
    throw inputError('bad-file-name', `Nom de fichier refusé : ${message}. Renommez le fichier puis recommencez.`);
  });
  if (manifest.convention && !conventionSchema().safeParse(manifest.convention).success) {
    throw inputError('bad-manifest', 'La convention, la période, les documents ou l’objet du pli sont hors des limites du format : vérifiez-les.');
  }
  if (!manifestSchema().safeParse(manifest).success) {
    throw inputError('bad-manifest', 'Les informations d’un fichier (taille, date, type) sont hors des limites du format : vérifiez les fichiers choisis.');
  }
  const json = Buffer.from(canonicalJson(manifest), 'utf8');
  if (json.length > MAX_MANIFEST) throw inputError('manifest-too-large', 'Trop de fichiers dans un même pli : répartissez-les en plusieurs plis.');
  return json;
}

export function decodeManifest(bytes: Buffer): Manifest {
  const refuse = (message: string): never => {
    throw securityError('bad-manifest', `Le contenu du pli est refusé : ${message}. Demandez à l'expéditeur de vérifier son logiciel et de renvoyer le pli.`);
  };
  let value: unknown;
  try {
    // ignoreBOM: a leading byte-order mark stays in the text, and JSON.parse refuses it.
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    refuse('liste des fichiers illisible');
  }
  const parsed = manifestSchema().safeParse(value);
  if (!parsed.success) refuse('liste des fichiers non conforme');
  const manifest = parsed.data! as Manifest;
  checkNames(manifest.files, refuse);
  // The signed bytes must be the manifest's one serialisation (docs/format.md 5.3), byte for byte:
  // another key order, whitespace, a duplicated key (JSON.parse keeps the last), an escaped
  // character or another spelling of a number would let two readers see two different manifests
  // under one signature. Every Pli writer has written exactly these bytes (encodeManifest).
  if (!Buffer.from(canonicalJson(manifest), 'utf8').equals(bytes)) refuse('liste des fichiers non canonique');
  return manifest;
}

/** Best-effort media type from the extension: informative only, never used to run anything. */
export function mediaTypeFor(name: string): string {
  const extension = name.toLowerCase().split('.').pop() ?? '';
  const types: Record<string, string> = {
    pdf: 'application/pdf', csv: 'text/csv', txt: 'text/plain', xml: 'application/xml',
    xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    xlsm: 'application/vnd.ms-excel.sheet.macroEnabled.12',
    doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    docm: 'application/vnd.ms-word.document.macroEnabled.12',
    ods: 'application/vnd.oasis.opendocument.spreadsheet', odt: 'application/vnd.oasis.opendocument.text',
    zip: 'application/zip', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg',
  };
  return types[extension] ?? 'application/octet-stream';
}
