// The Audit screen reads as sentences (issue 15, item 3): every action of docs/audit.md §1.1 has
// its sentence and its label in fr.json and en.json, and a sentence never shows raw JSON, a
// millisecond count, a hex id longer than 12 characters, a temporary folder's path or an
// unfilled {{placeholder}}, whatever the row holds (the database is the attacker's to write).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import { auditLine, type AuditEventView, type AuditFormat } from '../../shared/audit-words.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
type Strings = { audit: { sentences: Record<string, string>; actions: Record<string, string> } };
const fr = JSON.parse(read('renderer/i18n/fr.json')) as Strings;
const en = JSON.parse(read('renderer/i18n/en.json')) as Strings;

/** The actions of the table in docs/audit.md §1.1. */
const documented = (): string[] => {
  const doc = read('docs/audit.md');
  const table = doc.slice(doc.indexOf('### 1.1'), doc.indexOf('## 2.'));
  return [...table.matchAll(/^\| `([a-z.-]+)` \|/gm)].map((m) => m[1]!);
};

const i18n = i18next.createInstance();
await i18n.init({ resources: { fr: { translation: fr }, en: { translation: en } }, lng: 'fr', fallbackLng: 'fr', interpolation: { escapeValue: false }, showSupportNotice: false } as never);
const wording = { exists: (key: string) => i18n.exists(key), t: (key: string, params?: Record<string, string | number>) => i18n.t(key, params) };
const format: AuditFormat = {
  date: (ms) => new Date(ms).toISOString().slice(0, 10),
  time: () => '6 h 54',
  size: (bytes) => `${Math.round(bytes / 1024)} Ko`,
  baseName: (p) => p.split(/[\\/]/).filter(Boolean).pop() ?? p,
  shortId: (id) => `${id.slice(0, 4)} ${id.slice(4, 8)} ${id.slice(8, 12)}…`,
};
const CLAIRE = 'k3m9p2x7q4w8r5t1';
const PAUL = 'a9c2e4g6h8j0k2m4';
const names = new Map([[CLAIRE, 'Claire Martin'], [PAUL, 'Paul Durand']]);
const nameOf = (id: string) => names.get(id) ?? null;
const CONTAINER = '3f9a0c217be4d5e6f708192a3b4c5d6e';

const event = (action: string, detail: unknown, extra: Partial<AuditEventView> = {}): AuditEventView => ({
  seq: 7, at: 1_800_000_000_000, actor: CLAIRE, actorName: 'Claire Martin', action, object: CONTAINER, outcome: 'ok',
  detail: detail === undefined ? null : JSON.stringify(detail), ...extra,
});

/** What a sentence or a detail must never show. */
const leaks = (text: string): string[] => [
  ...(/\{\{|\}\}/.test(text) ? ['placeholder'] : []),
  ...(/[{}[\]"]/.test(text) ? ['JSON'] : []),
  ...(/\b\d{11,}\b/.test(text) ? ['millisecond count'] : []),
  ...(/\b[0-9a-f]{13,}\b/i.test(text) ? ['long hex'] : []),
  ...(/\/tmp\/|pli-e2e|\/home\//.test(text) ? ['path'] : []),
];

describe('audit sentences', () => {
  it('every action of docs/audit.md §1.1 has a sentence and a label, in fr and en', () => {
    const actions = documented();
    expect(actions.length).toBeGreaterThan(30);
    const missing = actions.flatMap((a) => [
      ...(fr.audit.sentences[a] ? [] : [`fr sentence ${a}`]), ...(en.audit.sentences[a] ? [] : [`en sentence ${a}`]),
      ...(fr.audit.actions[a] ? [] : [`fr label ${a}`]), ...(en.audit.actions[a] ? [] : [`en label ${a}`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('the example of issue 15: a person opened a container of another, in words', () => {
    const line = auditLine(wording, format, event('container.opened', { sender: PAUL, files: 2 }), nameOf);
    expect(line.sentence).toBe('Claire Martin a ouvert le pli 3f9a 0c21 7be4… de Paul Durand');
  });

  it('a locked-out sign-in says until when, in French time; a failed verification names the entry', () => {
    expect(auditLine(wording, format, event('login.locked-out', { until: 1_800_000_600_000 }, { object: null, outcome: 'refused' }), nameOf).sentence)
      .toBe('Connexion de Claire Martin bloquée jusqu’à 6 h 54');
    expect(auditLine(wording, format, event('audit.verified', { firstBad: 12, anchors: 0 }, { object: null, outcome: 'failed' }), nameOf).sentence)
      .toBe('Claire Martin a vérifié le journal d’audit\u00a0: altéré à partir de l’entrée n°\u00a012');
  });

  it('a container dropped on a USB key is said to leave for the folder, by its name', () => {
    const line = auditLine(wording, format, event('container.sent', { outbox: 2, transport: 'folder', destination: `/media/agent/CLE-USB/pli-${CONTAINER.slice(0, 16)}.pli` }), nameOf);
    expect(line.sentence).toBe('Pli 3f9a 0c21 7be4… de Claire Martin parti vers «\u00a0CLE-USB\u00a0»');
  });

  it('an event without actor is the workstation\'s; a refusal says so with its reason in words', () => {
    const line = auditLine(wording, format, event('container.refused', { reason: 'bad-signature', sender: PAUL }, { actor: null, actorName: null, outcome: 'refused' }), nameOf);
    expect(line.sentence).toMatch(/^Pli 3f9a 0c21 7be4… refusé \(signature invalide/);
  });

  it('the actions of the merged branches in words: conventions, retention, indicators, receipts, pushed directories', () => {
    const CONV = 'conv-ab12cd34ef56gh78';
    const say = (action: string, detail: unknown, extra: Partial<AuditEventView> = {}) => auditLine(wording, format, event(action, detail, extra), nameOf).sentence;
    expect(say('container.sealed', { recipients: [PAUL], files: 1, bytes: 10, convention: CONV, period: '2026-T4' }))
      .toBe('Claire Martin a chiffré le pli 3f9a 0c21 7be4… pour la convention ab12 cd34 ef56… (2026-T4)');
    expect(say('fingerprint.voice-verified', { fingerprint: 'ABCD-EFGH', authority: true }, { object: 'authority' }))
      .toBe('Claire Martin a vérifié de vive voix l’empreinte de l’autorité SSI');
    expect(say('retention.destroyed', { convention: CONV, what: 'file', path: '/home/agent/ouverts/IS101.xls' }))
      .toBe('Claire Martin a détruit le fichier «\u00a0IS101.xls\u00a0», ouvert du pli 3f9a 0c21 7be4…, à la fin de sa conservation (convention ab12 cd34 ef56…)');
    expect(say('retention.left', { convention: CONV, path: '/home/agent/ouverts/IS101.xls', reason: 'changed' }, { outcome: 'failed' }))
      .toBe('Claire Martin n’a pas pu détruire le fichier «\u00a0IS101.xls\u00a0» du pli 3f9a 0c21 7be4…\u00a0: il est à détruire à la main (modifié depuis son ouverture)');
    expect(say('indicators.corrected', { convention: CONV, commune: 'Nancy', period: '2026-T3', indicator: 'is101.cambriolages', reason: 'saisie', row: 3 }, { object: 'ind-0123456789abcdef' }))
      .toBe('Claire Martin a corrigé le chiffre «\u00a0Cambriolages de logements\u00a0» de Nancy pour 2026-T3');
    expect(say('convention.printed', { document: 'register', year: 2026, format: 'pdf', rows: 4 }, { object: 'sans-convention', actor: null, actorName: null }))
      .toBe('Le poste a enregistré le registre 2026 des plis hors convention (PDF)');
    expect(say('receipt.received', { type: 'opened', signer: PAUL, org: 'Mairie de Nancy', at: 1_800_000_000_000, source: 'imap' }, { actor: null, actorName: null }))
      .toBe('Accusé d’ouverture du pli 3f9a 0c21 7be4… reçu de Paul Durand (Mairie de Nancy)');
    expect(say('directory.ignored', { current: 14, sender: PAUL, source: 'imap' }, { object: '13', actor: null, actorName: null }))
      .toBe('Annuaire n°\u00a013 reçu de Paul Durand ignoré\u00a0: ce poste a déjà le n°\u00a014');
  });

  it('a sentence\'s form comes from a closed list of field values, for an event that went through; an ok event\'s reason is never read as a code', () => {
    const say = (action: string, detail: unknown, extra: Partial<AuditEventView> = {}) => auditLine(wording, format, event(action, detail, extra), nameOf).sentence;
    // A planted type naming an outcome picks no refusal's words for an ok event.
    expect(say('receipt.received', { type: 'refused', signer: PAUL }, { actor: null, actorName: null })).toBe('Accusé de Paul Durand reçu pour 3f9a 0c21 7be4…');
    // A refused sealing under a convention is no "a chiffré … pour la convention".
    expect(say('container.sealed', { reason: 'not-in-convention', convention: 'conv-ab12cd34ef56gh78' }, { outcome: 'refused', object: null }))
      .toBe('Claire Martin a chiffré le pli inconnu — refusé');
    // A revocation's reason is the officer's own words: "tampered" there is no refused container.
    expect(say('identity.revoked', { name: 'Paul Durand', reason: 'tampered' }, { object: PAUL })).toBe('Claire Martin a révoqué Paul Durand');
  });

  it('no sentence nor detail leaks JSON, a millisecond count, a long hex id or a temporary path, for every action and outcome', () => {
    const details = [
      { name: 'Claire Martin', org: 'Mairie', fingerprint: 'ABCD-EFGH-JKMN-PQRS-TVWX', role: 'operator' },
      { path: '/tmp/pli-e2e-x1/ouverts/IS101.xls', size: 300_000 },
      { recipients: [CLAIRE, PAUL], files: 2, bytes: 450_000 },
      { outbox: 3, transport: 'folder', destination: '/tmp/pli-e2e-x1/cle-usb', bytes: 10 },
      { inbox: 4, sender: PAUL, sha256: 'ab'.repeat(32), bytes: 10, source: 'imap', flags: ['old'] },
      { until: 1_800_000_600_000, notAfter: 1_900_000_000_000, failures: 3 },
      { reason: 'constructor', input: '/tmp/pli-e2e-x1/a.pli', nested: { a: 1 } },
      'not json at all {',
    ];
    for (const action of [...documented(), 'made.up', 'constructor', '__proto__']) {
      for (const outcome of ['ok', 'refused', 'failed'] as const) {
        for (const detail of details) {
          const raw = typeof detail === 'string' ? { detail } : { detail: JSON.stringify(detail) };
          const line = auditLine(wording, format, { ...event(action, undefined, { outcome }), ...raw }, nameOf);
          expect(leaks(line.sentence), `${action} ${outcome}: ${line.sentence}`).toEqual([]);
          for (const d of line.details) expect(leaks(`${d.label} ${d.value}`), `${action}: ${d.label} ${d.value}`).toEqual([]);
        }
      }
    }
  });
});
