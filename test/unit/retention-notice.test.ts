// The retention run's notice at the top of the inbox (docs/convention.md 8.1) is data: what was
// done (its state, its counts, the conventions' titles, a refusal as an error), worded by the
// interface in the reader's language (shared/retention-words.ts with renderer/i18n). Found by a
// review: the core's French sentence was shown as it was in the English interface.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import { toRetentionView } from '../../electron/ipc/views.js';
import { inputError } from '../../electron/core/errors.js';
import type { RetentionNotice } from '../../electron/core/authority/convention-retention.js';
import { contract } from '../../shared/ipc.js';
import { describeErrorWith } from '../../shared/errors.js';
import { retentionLine, type RetentionView } from '../../shared/retention-words.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');
const fr = JSON.parse(read('renderer/i18n/fr.json')) as { inbox: Record<string, unknown> };
const en = JSON.parse(read('renderer/i18n/en.json')) as { inbox: Record<string, unknown> };
// The renderer's i18n setup (renderer/i18n/index.ts), on the same files.
const i18n = i18next.createInstance();
await i18n.init({ resources: { fr: { translation: fr }, en: { translation: en } }, lng: 'fr', fallbackLng: 'fr', interpolation: { escapeValue: false }, showSupportNotice: false } as never);
const wording = { exists: (key: string) => i18n.exists(key), t: (key: string, params: Record<string, string | number>) => i18n.t(key, params) };

/** The notice as main sends it, checked by the contract the renderer parses answers with. */
function sent(notice: RetentionNotice): RetentionView {
  const view = toRetentionView(notice)!;
  const answer = { items: [], mailbox: false, watcher: { state: 'off', error: null, retryInSeconds: null }, refusedRoom: { bytes: 0, files: 0 }, retention: view, details: [] };
  expect(contract['inbox:list'].response.parse(answer).retention).toEqual(view);
  return view;
}
const words = async (language: 'fr' | 'en', view: RetentionView): Promise<string> => {
  await i18n.changeLanguage(language);
  return retentionLine(wording, view);
};
/** French words spaced for the eye (no-break spaces) read as the core's sentence. */
const spaced = (text: string): string => text.replace(/[\u00a0\u202f]/g, ' ');
const FRENCH = /conservation|détruit|convention a|à la main|n’a pas pu/;

describe('the retention notice: data from main, worded in the interface\'s language', () => {
  it('done: the conventions, what was destroyed and what is left to destroy by hand', async () => {
    const notice: RetentionNotice = {
      day: '2027-01-20', state: 'done', conventions: 1, titles: ['Convention IS 101 — Arras'], containers: 2, files: 1, manual: 2, error: null,
      message: 'Fin de conservation (« Convention IS 101 — Arras ») : 2 plis détruits et 1 fichier détruit aujourd’hui. 2 éléments restent à détruire à la main : la liste est dans le procès-verbal de destruction.',
    };
    const view = sent(notice);
    expect(await words('en', view)).toBe('End of retention (“Convention IS 101 — Arras”): 2 containers destroyed and 1 file destroyed today. 2 items are left to destroy by hand: the list is in the destruction record.');
    expect(spaced(await words('fr', view))).toBe(notice.message);
    expect(await words('en', { ...view, containers: 1, files: 0, manual: 0 })).toBe('End of retention (“Convention IS 101 — Arras”): 1 container destroyed and 0 files destroyed today.');
    expect(spaced(await words('fr', { ...view, containers: 1, files: 0, manual: 0 }))).toBe('Fin de conservation (« Convention IS 101 — Arras ») : 1 pli détruit et 0 fichier détruit aujourd’hui.');
  });

  it('waiting for an operator (one convention, several) and failed (the refusal worded by its code)', async () => {
    const waiting: RetentionNotice = { day: '2027-01-20', state: 'waiting', conventions: 1, titles: [], containers: 0, files: 0, manual: 0, error: null, message: 'Une convention a passé sa durée de conservation : la destruction de ses données se fera à la connexion d’une personne habilitée comme opérateur sur ce poste.' };
    expect(await words('en', sent(waiting))).toBe('A convention has passed its retention period: its data will be destroyed when a person authorised as operator signs in on this workstation.');
    expect(spaced(await words('fr', sent(waiting)))).toBe(waiting.message);
    expect(await words('en', sent({ ...waiting, conventions: 3 }))).toMatch(/^3 conventions have passed their retention period/);
    expect(spaced(await words('fr', sent({ ...waiting, conventions: 3 })))).toMatch(/^3 conventions ont passé leur durée de conservation : la destruction de leurs données/);

    const refusal = inputError('unknown-inbox', 'Aucun pli n° 7 dans la boîte de réception : vérifiez le numéro dans la liste des plis reçus.', { id: 7 });
    const failed = sent({ day: '2027-01-20', state: 'failed', conventions: 0, titles: [], containers: 0, files: 0, manual: 0, error: refusal, message: `La destruction des données en fin de conservation n’a pas pu se faire : ${refusal.message}` });
    await i18n.changeLanguage('en');
    const reason = describeErrorWith(wording, failed.error!).message;
    expect(await words('en', failed)).toBe(`The data at the end of its retention could not be destroyed: ${reason}`);
    expect(await words('en', failed)).not.toMatch(FRENCH);
    expect(spaced(await words('fr', failed))).toBe(spaced(failed.message));
  });

  it('the inbox shows the worded line, never the core\'s French sentence', () => {
    const inbox = read('renderer/screens/Inbox.tsx');
    expect(inbox).toMatch(/retentionLine\(/);
    expect(inbox).not.toMatch(/retention\??\.message/);
  });
});
