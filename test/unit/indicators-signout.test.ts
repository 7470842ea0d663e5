// The mapping editor's states (electron/ipc/channels/indicators.ts) are kept in main under random
// tokens for the person who chose them in a dialog. At sign-out they are forgotten: the next person
// to sign in on this workstation cannot have main read a file the previous one chose, with a token
// left in the window (u1-outbox, issue 15's last round). Through the IPC handler table main binds.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scriptedTable } from './handler-table.js';

const PASS = 'une phrase de passe de test';
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-indicators-signout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('indicators: the mapping editor forgets its states at sign-out', () => {
  it('a token kept before the sign-out is refused after it (« choisissez-le de nouveau »), a new choice works', async () => {
    const { opens, table, call } = scriptedTable(path.join(root, 'app'));
    await call('profile:init', {});
    const person = await call<{ person: { id: string } }>('identities:create', { opId: 'op-1', name: 'Claire Martin', email: 'claire@exemple.fr', org: 'Mairie d’Arras', passphrase: PASS });
    await call('session:signIn', { opId: 'op-2', id: person.person.id, passphrase: PASS });
    const state = path.join(root, 'etat.csv');
    writeFileSync(state, 'Commune;Cambriolages\r\nArras;12\r\n');
    opens.push(state);
    const chosen = await call<{ status: string; token: string }>('indicators:labels', {});
    expect(chosen.status).toBe('done');
    // Still known while the same person is signed in.
    expect(await call('indicators:labels', { token: chosen.token })).toMatchObject({ status: 'done', token: chosen.token });

    await call('session:signOut', {});
    await call('session:signIn', { opId: 'op-3', id: person.person.id, passphrase: PASS });
    const after = await table.invoke('indicators:labels', { token: chosen.token });
    expect(after.ok).toBe(false);
    expect(!after.ok && after.error.code).toBe('indicators-state-gone');
    opens.push(state);
    expect(await call('indicators:labels', {})).toMatchObject({ status: 'done' });
  }, 120_000);
});
