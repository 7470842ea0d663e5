// Pli objects over the real Postfix + Dovecot (test/mail/harness.ts; docs/objects.md): the officer
// O (mailbox prefecture@, authority "SSI DIPN 62"), the police district P (Sam, police@) and the
// town hall T (Tom, townhall@). A container's "remis" receipt reaches the sender through the
// mailboxes; the same receipt delivered twice is stored once; a forged receipt is refused and
// filed under Pli/Refusés; the officer revokes Sam and publishes, the town hall applies serial n+1
// on receive (filed under Pli/Traités), acknowledges it, then refuses Sam's next container; a
// replayed older directory is ignored; the acknowledgement reaches the officer.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { MailServers, MailUser } from './harness.js';
import { startMailBench, type MailBench, type MailParty } from './support.js';
import { currentKeys, getIdentity } from '../../electron/core/profile/identities.js';
import { queueSend, sendWithin } from '../../electron/core/mail/outbox.js';
import { listInbox } from '../../electron/core/mail/inbox.js';
import { receiveImap } from '../../electron/core/mail/imap.js';
import { ObjectReceiver, type ObjectResult } from '../../electron/core/mail/dispatch.js';
import { listReceipts, partnerAnchors, receiveReceipt, type ReceiptOutcome } from '../../electron/core/mail/receipts.js';
import { directoryStatus, publishDirectory } from '../../electron/core/mail/publish.js';
import { parseObjectText, sealObject, signObjectText } from '../../electron/core/mail/objects.js';
import { certifyCard, exportDirectory, initAuthority, revokePerson } from '../../electron/core/authority/authority.js';
import { acceptDirectory, installOwnCertificate } from '../../electron/core/services/workstation.js';
import { ed25519Keygen } from '../../electron/core/crypto/keys.js';
import { objectLine } from '../../electron/cli/objects.js';

let bench: MailBench;
let servers: MailServers;
let tmp: string;

type Party = MailParty;
let officer: Party;
let police: Party;
let town: Party;

// Through the sign-in, as the front ends: the profile's integrity key is attached (trust writes).
const makeParty = (name: string, user: MailUser, org: string): Promise<Party> => bench.party(name, user, org, { unlock: 'signIn' });
const counts = (user: MailUser): Promise<Record<string, number>> => bench.counts(user);
const waitForInbox = (user: MailUser, n: number, timeoutMs?: number): Promise<void> => bench.waitForInbox(user, n, timeoutMs);

const sendRaw = (from: MailUser, to: MailUser, name: string, attachment: Buffer): Promise<void> =>
  bench.sendRaw(from, to, [{ filename: name, content: attachment, contentType: 'application/octet-stream' }], { subject: 'Accusé de réception Pli' });

/** One receive round with the objects handled, as `pli receive --as` does. */
async function receive(party: Party, options: { batchWrites?: boolean } = {}): Promise<ObjectResult[]> {
  const objects: ObjectResult[] = [];
  const receiver = new ObjectReceiver(party.ctx, { as: party.id });
  try {
    await receiveImap(party.ctx, { as: party.id, objects: receiver, onObject: (o) => objects.push(o), ...options });
  } finally {
    receiver.release();
  }
  return objects;
}

beforeAll(async () => {
  bench = await startMailBench('pli-objects-mail-', { inboxWaitMs: 20_000 });
  ({ servers, tmp } = bench);
  officer = await makeParty('Olivier Ssi', servers.users.prefecture, 'DIPN du Pas-de-Calais');
  police = await makeParty('Sam Lefebvre', servers.users.police, "CPN d'Arras");
  town = await makeParty('Tom Garnier', servers.users.townhall, 'Mairie de Saint-Laurent-Blangy');
  const { fingerprint } = await initAuthority(officer.ctx, 'SSI DIPN 62', officer.id);
  const certificates = new Map<Party, string>();
  for (const party of [police, town]) certificates.set(party, (await certifyCard(officer.ctx, getIdentity(party.profile.db, party.id)!.card, 'operator')).certificate);
  const { text } = await exportDirectory(officer.ctx);
  for (const party of [police, town]) {
    (await party.ctx.unlocker.unlock(getIdentity(party.profile.db, party.id)!)).wipe();
    await acceptDirectory(party.ctx, text, fingerprint);
    await installOwnCertificate(party.ctx, certificates.get(party)!);
  }
}, 120_000);

afterAll(async () => {
  await bench?.stop();
}, 30_000);

let containerId = '';

describe('receipts through the functional mailboxes (real Postfix + Dovecot)', () => {
  it('the town hall\'s receive answers with a signed "remis" receipt that reaches the police', async () => {
    const file = path.join(tmp, 'IS101.csv');
    fs.writeFileSync(file, 'type;nombre\ncambriolages;12\n');
    const sent = await queueSend(police.ctx, { as: police.id, to: [town.id], files: [file] });
    containerId = sent.containerId;
    expect((await sendWithin(police.ctx, sent.outboxIds, 20_000)).sent).toHaveLength(1);
    await waitForInbox(town.user, 1);
    expect(await receive(town)).toEqual([]);
    expect(listInbox(town.profile.db)).toHaveLength(1);

    await waitForInbox(police.user, 1);
    const objects = await receive(police);
    expect(objects).toMatchObject([{ kind: 'receipt', result: 'stored', receipt: { type: 'delivered', container: containerId, signer: town.id, verdict: 'verified' } }]);
    const [receipt] = listReceipts(police.profile.db);
    expect(receipt).toMatchObject({ type: 'delivered', state: 'matched', container_id: containerId, same_bytes: 1 });
    expect(receipt!.anchor_seq).toBeGreaterThan(0);
    // Filed like a container, never left in INBOX; nothing entered the police's inbox.
    expect(await counts(police.user)).toMatchObject({ INBOX: 0, 'Pli/Traités': 1 });
    expect(listInbox(police.profile.db)).toHaveLength(0);
    // A receipt is never answered by a receipt: nothing went back to the town hall.
    expect((await counts(town.user)).INBOX).toBe(0);
  }, 120_000);

  it('the same receipt delivered twice is stored once', async () => {
    const receiptFile = fs.readdirSync(path.join(town.profile.home, 'outbox')).map((n) => path.join(town.profile.home, 'outbox', n))
      .find((f) => !f.includes(containerId))!;
    const bytes = fs.readFileSync(receiptFile);
    await sendRaw(town.user, police.user, 'pli-objet-receipt-a.pli', bytes);
    await sendRaw(town.user, police.user, 'pli-objet-receipt-b.pli', bytes);
    await waitForInbox(police.user, 2);
    const objects = await receive(police);
    expect(objects.map((o) => o.result)).toEqual(['duplicate', 'duplicate']);
    expect(listReceipts(police.profile.db, { includeSetAside: true })).toHaveLength(1);
  }, 60_000);

  it('a forged receipt (signed inside by another key) is refused and filed under Pli/Refusés', async () => {
    const other = await ed25519Keygen();
    const text = await signObjectText('receipt', {
      v: 1, type: 'opened', id: randomBytes(16).toString('hex'), signer: town.id, org: 'Mairie de Saint-Laurent-Blangy', at: Date.now(), container: containerId,
      sha256: null, verdict: null, reason: null, openedBy: { id: town.id, name: 'Tom Garnier' }, serial: null, anchor: null,
    }, other.secretKey);
    const tom = await town.ctx.unlocker.unlock(getIdentity(town.profile.db, town.id)!);
    const sealed = await sealObject(town.ctx, 'receipt', text, tom, [getIdentity(town.profile.db, police.id)!]);
    tom.wipe();
    const before = await counts(police.user);
    await sendRaw(town.user, police.user, 'pli-objet-receipt-c.pli', sealed.bytes);
    await waitForInbox(police.user, 1);
    expect(await receive(police)).toMatchObject([{ kind: 'receipt', result: 'refused', code: 'receipt-forged' }]);
    expect(listReceipts(police.profile.db, { includeSetAside: true })).toHaveLength(1);
    expect((await counts(police.user))['Pli/Refusés']).toBe((before['Pli/Refusés'] ?? 0) + 1);
  }, 60_000);

  // Issue 13: `pli receive` (batchWrites) answers a batch with one receipt per sender, listing
  // every container of the batch (v2, docs/objects.md 3.1), not one receipt each.
  const batchIds: string[] = [];
  it('a batch of three containers is answered by one receipt that names the three, each stored at the police', async () => {
    const ids: number[] = [];
    for (const n of [1, 2, 3]) {
      const file = path.join(tmp, `IST-${n}.csv`);
      fs.writeFileSync(file, `atteintes;${n}\n`);
      const sent = await queueSend(police.ctx, { as: police.id, to: [town.id], files: [file] });
      batchIds.push(sent.containerId);
      ids.push(...sent.outboxIds);
    }
    expect((await sendWithin(police.ctx, ids, 20_000)).sent).toHaveLength(3);
    await waitForInbox(town.user, 3);
    const receiptRows = (): number => town.profile.db.prepare("SELECT COUNT(*) FROM outbox WHERE object_kind = 'receipt'").pluck().get() as number;
    const before = receiptRows();
    expect(await receive(town, { batchWrites: true })).toEqual([]);
    expect(receiptRows()).toBe(before + 1);

    await waitForInbox(police.user, 1);
    const objects = await receive(police);
    expect(objects).toMatchObject([{ kind: 'receipt', result: 'stored', receipt: { type: 'delivered', signer: town.id, verdict: 'verified', count: 3 } }]);
    // What `pli receive` says of it: the first container, and how many more.
    expect(objectLine(police.profile.db, objects[0]!)).toMatch(/^Accusé de réception : pli [0-9a-f]{16} {2}remis le .* \(et 2 autres plis du même accusé\)$/);
    const rows = batchIds.map((id) => listReceipts(police.profile.db, { container: id }));
    for (const r of rows) expect(r).toMatchObject([{ type: 'delivered', state: 'matched', verdict: 'verified', same_bytes: 1 }]);
    // One receipt: one anchor of the town hall's log for the three.
    expect(new Set(rows.map((r) => r[0]!.anchor_seq)).size).toBe(1);
    expect(rows[0]![0]!.anchor_seq).toBeGreaterThan(0);
    // The anchor is kept once for the partner (one signer, one entry number).
    const { anchors, rejected } = await partnerAnchors(police.profile.db, town.id);
    expect(rejected).toBe(0);
    expect(anchors.filter((a) => a.seq === rows[0]![0]!.anchor_seq)).toHaveLength(1);
  }, 120_000);

  it('the same container id twice in a batch (the second copy altered) gets two receipts, one verified, one refused', async () => {
    const file = path.join(tmp, 'IS101-bis.csv');
    fs.writeFileSync(file, 'vols;7\n');
    const sent = await queueSend(police.ctx, { as: police.id, to: [town.id], files: [file] });
    expect((await sendWithin(police.ctx, sent.outboxIds, 20_000)).sent).toHaveLength(1);
    // A copy with its last byte changed: same header, so the same container id; its signature fails.
    const bytes = fs.readFileSync(path.join(police.profile.home, 'outbox', `${sent.containerId}.pli`));
    bytes[bytes.length - 1]! ^= 1;
    await sendRaw(police.user, town.user, 'pli-copie.pli', bytes);
    await waitForInbox(town.user, 2);
    expect(await receive(town, { batchWrites: true })).toEqual([]);
    await waitForInbox(police.user, 2);
    const objects = await receive(police);
    expect(objects.map((o) => o.result)).toEqual(['stored', 'stored']);
    const verdicts = listReceipts(police.profile.db, { container: sent.containerId }).map((r) => r.verdict).sort();
    expect(verdicts).toEqual(['refused', 'verified']);
  }, 120_000);

  /** A receipt as the police's receive hands it over after opening the object: Tom's inner text. */
  async function tomsReceipt(body: unknown): Promise<ReceiptOutcome> {
    const tom = await town.ctx.unlocker.unlock(getIdentity(town.profile.db, town.id)!);
    const text = await signObjectText('receipt', body, tom.current.sigSecret);
    tom.wipe();
    const sender = getIdentity(police.profile.db, town.id)!;
    return receiveReceipt(police.ctx, {
      containerId: randomBytes(16).toString('hex'), sha256: '0'.repeat(64), sender,
      senderSigPublic: currentKeys(police.profile.db, town.id).sig.public_key, object: parseObjectText(text)!,
    }, 'imap', 'test');
  }
  const entry = (container: string) => ({ container, sha256: 'a'.repeat(64), verdict: 'verified', reason: null });

  it('a batched receipt naming one container its signer was not sent is refused whole: none of its entries is stored', async () => {
    // A container of the police to itself only (queued to another mailbox, never sent): Tom's key is not in it.
    const file = path.join(tmp, 'interne.csv');
    fs.writeFileSync(file, 'interne;1\n');
    const own = await queueSend(police.ctx, { as: police.id, to: [police.id], mail: ['archives@police.example'], files: [file] });
    const fresh = await queueSend(police.ctx, { as: police.id, to: [town.id], files: [file] });
    const stored = listReceipts(police.profile.db, { includeSetAside: true }).length;
    const outcome = await tomsReceipt({ v: 2, type: 'delivered', id: randomBytes(16).toString('hex'), signer: town.id, org: 'Mairie de Saint-Laurent-Blangy', at: Date.now(),
      containers: [entry(fresh.containerId), entry(own.containerId)], anchor: null });
    expect(outcome).toMatchObject({ result: 'refused', error: { code: 'receipt-forged' } });
    expect(outcome.result === 'refused' ? String(outcome.error.params.detail) : '').toMatch(/n'était pas destinataire/);
    expect(listReceipts(police.profile.db, { includeSetAside: true })).toHaveLength(stored);
    expect(listReceipts(police.profile.db, { container: fresh.containerId })).toEqual([]);
  }, 60_000);

  it('a batched receipt naming a container twice, or another signer, is refused; a v2 "opened" is not a receipt', async () => {
    const stored = listReceipts(police.profile.db, { includeSetAside: true }).length;
    const base = { v: 2, type: 'delivered', signer: town.id, org: 'Mairie de Saint-Laurent-Blangy', at: Date.now(), anchor: null };
    const twice = await tomsReceipt({ ...base, id: randomBytes(16).toString('hex'), containers: [entry(batchIds[0]!), entry(batchIds[0]!)] });
    expect(twice).toMatchObject({ result: 'refused', error: { code: 'receipt-forged', params: { detail: 'contenu non conforme' } } });
    const opened = await tomsReceipt({ ...base, type: 'opened', id: randomBytes(16).toString('hex'), containers: [entry(batchIds[0]!), entry(batchIds[1]!)] });
    expect(opened).toMatchObject({ result: 'refused', error: { code: 'receipt-forged', params: { detail: 'contenu non conforme' } } });
    const someoneElse = await tomsReceipt({ ...base, signer: police.id, id: randomBytes(16).toString('hex'), containers: [entry(batchIds[0]!), entry(batchIds[1]!)] });
    expect(someoneElse).toMatchObject({ result: 'refused', error: { code: 'receipt-forged' } });
    expect(listReceipts(police.profile.db, { includeSetAside: true })).toHaveLength(stored);
  }, 60_000);
});

describe('the directory pushed through the functional mailboxes (real Postfix + Dovecot)', () => {
  let first: { serial: number; bytes: Buffer } | null = null;

  it('revoke and publish: the town hall applies serial n+1, acknowledges it, then refuses the revoked sender', async () => {
    // Sam's workstation does not know yet: its container leaves before the town hall applies.
    const file = path.join(tmp, 'IST.csv');
    fs.writeFileSync(file, 'indicateur;valeur\natteintes;3\n');
    const late = await queueSend(police.ctx, { as: police.id, to: [town.id], files: [file] });
    await revokePerson(officer.ctx, getIdentity(officer.profile.db, police.id)!, 'mutation');
    const serialBefore = directoryStatus(town.profile.db).serial!;

    const started = performance.now();
    const published = await publishDirectory(officer.ctx, 'mail');
    expect(published.orgs.map((o) => o.org)).toEqual(['Mairie de Saint-Laurent-Blangy']);
    expect((await sendWithin(officer.ctx, published.outboxIds, 20_000)).sent).toHaveLength(1);
    first = { serial: published.serial, bytes: fs.readFileSync(path.join(officer.profile.home, 'outbox', `${(officer.profile.db.prepare('SELECT container_id FROM outbox WHERE id = ?').pluck().get(published.outboxIds[0]) as string)}.pli`)) };
    await waitForInbox(town.user, 1);
    const objects = await receive(town);
    const elapsed = performance.now() - started;
    expect(objects).toMatchObject([{ kind: 'directory', result: 'applied', serial: serialBefore + 1, acknowledged: true }]);
    expect(directoryStatus(town.profile.db)).toMatchObject({ serial: serialBefore + 1, arrival: { via: 'imap', issuer: officer.id } });
    expect((await counts(town.user))['Pli/Traités']).toBeGreaterThanOrEqual(2);
    console.log(`publish → applied at the town hall (real servers, loopback): ${elapsed.toFixed(0)} ms`);

    expect((await sendWithin(police.ctx, late.outboxIds, 20_000)).sent).toHaveLength(1);
    await waitForInbox(town.user, 1);
    await receive(town);
    expect(listInbox(town.profile.db).at(-1)).toMatchObject({ container_id: late.containerId, state: 'refused', reason: 'sender-revoked' });
  }, 120_000);

  it("the acknowledgement reaches the officer and the directory's status shows it", async () => {
    await waitForInbox(officer.user, 1);
    expect(await receive(officer)).toMatchObject([{ kind: 'receipt', result: 'stored', receipt: { type: 'directory-applied', signer: town.id, serial: first!.serial } }]);
    expect(directoryStatus(officer.profile.db).organisations).toMatchObject([{ org: 'Mairie de Saint-Laurent-Blangy', published: first!.serial, acknowledged: first!.serial }]);
  }, 60_000);

  it('a replayed older directory is ignored and changes nothing', async () => {
    const next = await publishDirectory(officer.ctx, 'mail');
    await sendWithin(officer.ctx, next.outboxIds, 20_000);
    await waitForInbox(town.user, 1);
    expect(await receive(town)).toMatchObject([{ kind: 'directory', result: 'applied', serial: next.serial }]);
    await sendRaw(officer.user, town.user, 'pli-objet-directory-replay.pli', first!.bytes);
    await waitForInbox(town.user, 1);
    expect(await receive(town)).toMatchObject([{ kind: 'directory', result: 'ignored', serial: first!.serial, current: next.serial }]);
    expect(directoryStatus(town.profile.db).serial).toBe(next.serial);
  }, 60_000);
});
