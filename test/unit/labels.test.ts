// The domain-separation labels (electron/core/crypto/labels.ts): one table, documented, unique,
// and the only place in electron/ where a `pli/v1/...` string is written. A label typed by hand
// elsewhere could drift from the document, or be reused for a second purpose.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AAD, ALL_LABELS, FINGERPRINT_LABELS, KDF_INFO, SIGNATURE_LABELS } from '../../electron/core/crypto/labels.js';

const root = path.resolve(import.meta.dirname, '../..');
const doc = (name: string) => readFileSync(path.join(root, 'docs', name), 'utf8');
// A label as the documents write it: in backticks, the NUL byte as `\0`.
const written = (label: string) => `\`${label.replace(/\0/g, '\\0')}\``;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|tsx|mjs|js)$/.test(entry.name) ? [full] : [];
  });
}

describe('labels', () => {
  it('lists every table in ALL_LABELS', () => {
    const tables = [KDF_INFO, AAD, FINGERPRINT_LABELS, SIGNATURE_LABELS].flatMap((t) => Object.values(t) as string[]);
    expect([...ALL_LABELS].sort()).toEqual(tables.sort());
    expect(ALL_LABELS.length).toBeGreaterThan(20);
  });

  it('are unique, ASCII and versioned', () => {
    expect(new Set(ALL_LABELS).size).toBe(ALL_LABELS.length);
    for (const label of ALL_LABELS) expect(label).toMatch(/^pli\/v1\/[a-z0-9/-]+\0?$/);
  });

  it('each appears in the label tables of docs/format.md', () => {
    const format = doc('format.md');
    const section = format.slice(format.indexOf('## 6.'), format.indexOf('## 7.'));
    expect(section.length).toBeGreaterThan(0);
    const missing = ALL_LABELS.filter((label) => !section.includes(written(label)));
    expect(missing).toEqual([]);
  });

  it('each one documented where it is used agrees with the documents it names', () => {
    // The documents that specify a construction write the same bytes as the table.
    expect(doc('profile.md')).toContain('pli/v1/master\\0');
    expect(doc('profile.md')).toContain(written(KDF_INFO.integrityTrust));
    expect(doc('audit.md')).toContain(SIGNATURE_LABELS.auditCheckpointV2.replace('\0', '\\0'));
    expect(doc('audit.md')).toContain(SIGNATURE_LABELS.auditAnchor.replace('\0', '\\0'));
    expect(doc('mailbox.md')).toContain(written(AAD.mailboxPassword));
    expect(doc('authority.md')).toContain(written(AAD.keyfile));
  });

  it('no other file of electron/ writes a pli/v1/ string literal', () => {
    const offenders: string[] = [];
    for (const file of sources(path.join(root, 'electron'))) {
      if (file.endsWith(path.join('crypto', 'labels.ts'))) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, index) => {
        const code = line.trim();
        if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return; // comments may cite a label
        if (/['"`]pli\/v1\//.test(line)) offenders.push(`${path.relative(root, file)}:${index + 1}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
