// Issue 15, "no technical leaks": an error about a place (the profile's folder, a USB key, the
// folder a container is opened into) names it by its own name, never by a temporary folder's full
// path; the full path stays reachable, folded away as the technical detail, for IT support.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import { describeErrorWith } from '../../shared/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fr = JSON.parse(readFileSync(path.join(ROOT, 'renderer/i18n/fr.json'), 'utf8')) as Record<string, unknown>;
const i18n = i18next.createInstance();
await i18n.init({ resources: { fr: { translation: fr } }, lng: 'fr', interpolation: { escapeValue: false }, showSupportNotice: false } as never);
const describe_ = (code: string, params: Record<string, string | number>, detail: string | null = null) =>
  describeErrorWith({ exists: (key) => i18n.exists(key), t: (key, p) => i18n.t(key, p) }, { code, message: 'Message du cœur.', params, detail });

describe('errors name a place by its own name', () => {
  it('a full path in home, place or path is shown as the folder\'s name, the path in the detail', () => {
    const place = '/tmp/pli-e2e-x1y2/cle-usb';
    const shown = describe_('disk-full', { place, placeKind: 'folder' });
    expect(shown.message).toContain('«\u00a0cle-usb\u00a0»');
    expect(shown.message).not.toContain('/tmp/');
    expect(shown.detail).toBe(place);
    const profile = describe_('no-profile', { home: 'C:\\Users\\agent\\AppData\\Roaming\\Pli\\profil' });
    expect(profile.message).toContain('«\u00a0profil\u00a0»');
    expect(profile.message).not.toContain('AppData');
  });

  it('a detail the error already has (the system\'s words) is kept; names that are no path are untouched', () => {
    expect(describe_('no-permission', { place: '/media/agent/CLE/envoi' }, 'EACCES: permission denied').detail).toBe('EACCES: permission denied');
    expect(describe_('name-exhausted', { name: 'IS101.xls', place: 'envoi' }).message).toContain('«\u00a0IS101.xls\u00a0»');
  });
});
