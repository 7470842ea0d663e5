// Issue 15's wording of a wrong passphrase and of the lockout, end to end from the core's error
// (electron/core/services/session.ts) through the IPC shape (ipc/views.ts) to the interface's
// French (shared/errors.ts with fr.json): "Il vous reste 4 essais", "Connexion … bloquée jusqu’à
// 6 h 54", an i18next plural for the attempts, a French time for the end of the lock.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import i18next from 'i18next';
import { closeProfiles } from './helpers.js';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, getIdentity } from '../../electron/core/profile/identities.js';
import { setSettings, signIn } from '../../electron/core/services/session.js';
import { toIpcError } from '../../electron/ipc/views.js';
import { describeErrorWith } from '../../shared/errors.js';

const CHEAP = { opslimit: 1, memlimitKib: 8 * 1024 };
const root = mkdtempSync(path.join(tmpdir(), 'pli-signin-words-'));
const opened: Profile[] = [];
afterAll(() => closeProfiles(opened, root));

const read = (file: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, '../..', file), 'utf8')) as Record<string, unknown>;
const i18n = i18next.createInstance();
await i18n.init({ resources: { fr: { translation: read('renderer/i18n/fr.json') } }, lng: 'fr', interpolation: { escapeValue: false }, showSupportNotice: false } as never);
const words = (error: unknown) => describeErrorWith({
  exists: (key) => i18n.exists(key), t: (key, p) => i18n.t(key, p),
  time: (ms) => { const d = new Date(ms); return `${d.getHours()}\u00a0h\u00a0${String(d.getMinutes()).padStart(2, '0')}`; },
}, toIpcError(error)).message;
const rejection = async (p: Promise<unknown>): Promise<unknown> => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e);

describe('a wrong passphrase and the lockout, in the interface\'s words', () => {
  it('attempts left as a plural, then the lock until a French time', async () => {
    const { profile } = initProfile(path.join(root, 'poste'));
    opened.push(profile);
    const made = await createIdentity(profile.db, { name: 'Claire Martin', email: 'mairie@exemple.fr', org: 'Mairie' }, 'la bonne phrase de passe', CHEAP);
    const person = getIdentity(profile.db, made.id)!;
    setSettings(profile.db, { maxFailures: 3, lockoutMinutes: 15 });
    const now = new Date(2026, 9, 8, 6, 39).getTime();
    expect(words(await rejection(signIn(profile, person, 'une erreur', now))))
      .toBe('Phrase de passe incorrecte pour Claire Martin. Il vous reste 2\u00a0essais avant un blocage de 15\u00a0min.');
    expect(words(await rejection(signIn(profile, person, 'une erreur', now))))
      .toBe('Phrase de passe incorrecte pour Claire Martin. Il vous reste 1\u00a0essai avant un blocage de 15\u00a0min.');
    const locked = words(await rejection(signIn(profile, person, 'une erreur', now)));
    expect(locked).toMatch(/^Connexion de Claire Martin bloquée jusqu’à 6\u00a0h\u00a054 après trop de phrases de passe erronées/);
  });
});
