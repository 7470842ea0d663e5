// The file-name rules (docs/format.md 5.3), both directions: the sealer refuses a name that could
// mislead or break a Windows or Linux disk, and a reader refuses a signed container from an older
// sender that carries one, as a whole, before anything is written. Messages show the name escaped.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sealToBuffer } from '../../electron/core/container/seal.js';
import { openStream } from '../../electron/core/container/open.js';
import { bufferSource, FolderSink } from '../../electron/core/container/sinks.js';
import { fileNameProblem, foldName, printable } from '../../electron/core/container/manifest.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, sealParams, readerCallbacks, tryOpen, describeError, sealRawPlaintext, rawPlaintext, type TestPerson } from './helpers.js';

let sender: TestPerson;
let reader: TestPerson;
beforeAll(async () => {
  [sender, reader] = await Promise.all([makePerson(), makePerson()]);
});

const DEVICES = ['CON', 'PRN', 'AUX', 'NUL', ...[...'0123456789¹²³'].flatMap((d) => [`COM${d}`, `LPT${d}`]), 'CONIN$', 'CONOUT$'];
const BIDI = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069].map((c) => String.fromCodePoint(c));
// Zero-width and other invisible format characters (Unicode category Cf).
const FORMAT = [0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0xfeff, 0x00ad, 0x061c, 0x180e, 0x2061, 0xfff9, 0xe0001].map((c) => String.fromCodePoint(c));

/** Names from the issue and their neighbours: each must be refused on both sides. */
const BAD: string[] = [
  'CON .txt', 'COM¹.txt', 'LPT0', 'CONIN$', 'conout$.log', 'Com0.csv', 'lpt²', 'nul.tar.gz', 'AUX  .pdf', 'PRN...txt',
  'facture\u202efdp.exe', 'rapport\u2066.pdf', 'etat\u200b.xls', '\ufeffIS101.xls', 'note\u2060.txt',
  '.bashrc', '.ssh', '..rapport.pdf', '.pdf',
  'ligne\u2028deux.txt', 'para\u2029.txt', // line and paragraph separators: shown as line breaks
];
/** Names close to the refused ones that stay legitimate. */
const GOOD = ['CONSOLE.txt', 'COM10.txt', 'con-rapport.pdf', 'LPT.txt', 'Conin.txt', 'AUXERRE.csv', 'nul-part.doc',
  'IS101_T3_2026.xls', 'État 2026.pdf', 'a.bashrc', 'rapport..final.pdf', 'مدينة.pdf', 'עיר.csv', 'données 😀.csv', 'COM 1.txt'];

describe('fileNameProblem', () => {
  it('refuses every name of the table, and accepts the neighbours', () => {
    for (const name of BAD) expect(fileNameProblem(name), printable(name)).not.toBeNull();
    for (const name of GOOD) expect(fileNameProblem(name), name).toBeNull();
  });

  it('refuses a device name in any case, with any extension, trailing spaces or dots before it', () => {
    const device = fc.tuple(fc.constantFrom(...DEVICES), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }))
      .map(([d, upper]) => [...d].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
    const extension = fc.oneof(fc.constant(''), fc.stringMatching(/^\.[a-z0-9]{1,4}(\.[a-z0-9]{1,3})?$/));
    fc.assert(fc.property(device, fc.constantFrom('', ' ', '  ', '.', ' .'), extension, (d, middle, ext) => {
      expect(fileNameProblem(d + middle + ext), d + middle + ext).not.toBeNull();
    }), { numRuns: 1000 });
  });

  it('refuses a bidirectional control or a format character anywhere in a name', () => {
    fc.assert(fc.property(fc.constantFrom(...BIDI, ...FORMAT), fc.stringMatching(/^[a-zA-Z0-9 é_-]{1,20}$/), fc.nat(), (c, stem, at) => {
      const chars = [...`${stem}.pdf`];
      const i = at % (chars.length + 1);
      const name = [...chars.slice(0, i), c, ...chars.slice(i)].join('');
      expect(fileNameProblem(name), printable(name)).not.toBeNull();
    }), { numRuns: 1000 });
  });

  it('refuses every name that starts with a dot', () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-zA-Z0-9._-]{0,20}$/), (rest) => {
      expect(fileNameProblem(`.${rest}`)).not.toBeNull();
    }), { numRuns: 500 });
  });
});

describe('printable', () => {
  it('shows invisible and control characters as <U+XXXX>, never raw', () => {
    expect(printable('facture\u202efdp.exe')).toBe('facture<U+202E>fdp.exe');
    expect(printable('a\u001b[2Jb')).toBe('a<U+001B>[2Jb');
    expect(printable('x\u{e0001}y')).toBe('x<U+E0001>y');
    expect(printable('État 😀.pdf')).toBe('État 😀.pdf');
    const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom(...BIDI, ...FORMAT, '\u0007', '\u2028'), (text, c) => {
      expect(invisible.test(printable(text + c + text))).toBe(false);
    }), { numRuns: 500 });
  });
});

describe('names equal after NFC and case folding', () => {
  const PAIRS = [['Etat.pdf', 'etat.pdf'], ['ÉTAT.pdf', 'état.pdf'], ['Straße.pdf', 'STRASSE.pdf'], ['ﬁchier.txt', 'FICHIER.txt'],
    ['ΟΔΟΣ.txt', 'οδος.txt'], ['οδος.txt', 'οδοσ.txt'], ['ẞ.txt', 'ß.txt']];

  it('fold to the same key', () => {
    for (const [a, b] of PAIRS) expect(foldName(a!), `${a} / ${b}`).toBe(foldName(b!));
    expect(foldName('Etat.pdf')).not.toBe(foldName('Etats.pdf'));
  });

  it('are refused at sealing (input) and at opening (security), nothing written', async () => {
    for (const pair of PAIRS) {
      const error = await sealToBuffer(pair.map((name) => ({ name, data: Buffer.alloc(1) })), sealParams(sender, [reader])).then(() => null, (e: unknown) => e);
      expect(describeError(error), pair.join(' / ')).toBe('input/bad-file-name');
      const manifest = { v: 1, sender: sender.id, files: pair.map((name) => ({ name, type: 'text/plain', size: 1, mtime: null })) };
      const outcome = await tryOpen(await sealRawPlaintext(sender, [reader], rawPlaintext(manifest, [Buffer.from('a'), Buffer.from('b')])), readerCallbacks(reader, [sender]));
      expect(describeError(outcome.error), pair.join(' / ')).toBe('security/bad-manifest');
      expect(outcome.begun).toBe(false);
    }
  });
});

describe('both directions, through the real sealer and reader', () => {
  it('the sealer refuses each bad name (input/bad-file-name), naming it escaped', async () => {
    for (const name of BAD) {
      const error = await sealToBuffer([{ name: 'ok.txt', data: Buffer.from('a') }, { name, data: Buffer.from('x') }], sealParams(sender, [reader])).then(() => null, (e: unknown) => e);
      expect(describeError(error), printable(name)).toBe('input/bad-file-name');
      expect((error as PliError).message).toContain(`« ${printable(name)} »`);
      expect((error as PliError).message).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    }
  });

  it('the sealer accepts the neighbours, and the reader gives them back', async () => {
    const files = GOOD.map((name, i) => ({ name, data: Buffer.from(`fichier ${i}`) }));
    const { bytes } = await sealToBuffer(files, sealParams(sender, [reader]));
    const outcome = await tryOpen(bytes, readerCallbacks(reader, [sender]));
    expect(describeError(outcome.error)).toBe('accepted');
    expect(outcome.files.map((f) => f.name)).toEqual(GOOD);
  });

  it('a container from an older sender with such a name is refused whole, nothing written, the name escaped', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pli-names-'));
    try {
      for (const [i, name] of BAD.entries()) {
        // A good file first: it must not be released either.
        const manifest = { v: 1, sender: sender.id, files: [{ name: 'IS101.xls', type: 'application/vnd.ms-excel', size: 5, mtime: null }, { name, type: 'text/plain', size: 1, mtime: null }] };
        const bytes = await sealRawPlaintext(sender, [reader], rawPlaintext(manifest, [Buffer.from('12345'), Buffer.from('x')]));
        const out = path.join(root, String(i));
        const sink = await FolderSink.create(out);
        const error = await openStream(bufferSource(bytes), sink, readerCallbacks(reader, [sender])).then(() => null, (e: unknown) => e);
        expect(describeError(error), printable(name)).toBe('security/bad-manifest');
        const message = (error as PliError).message;
        expect(message).toContain(`« ${printable(name)} »`);
        expect(message).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
        expect(readdirSync(out)).toEqual([]);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
