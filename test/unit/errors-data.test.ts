// Errors and statuses are data (issue 11, item 2): core errors carry a code and params and name no
// CLI flag; the CLI adds its hint by code; the interface words every code it knows through i18n
// (French and English) and falls back to the core's French message for the codes listed below; a
// mail server's reply travels as a detail, never as the message; the watch mode's news is typed.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PliError, inputError, securityError, temporaryError } from '../../electron/core/errors.js';
import { DB_FILE, initProfile, openProfile } from '../../electron/core/profile/profile.js';
import { resolveIdentity, resolveOwn } from '../../electron/core/profile/identities.js';
import { requireMailbox } from '../../electron/core/mail/settings.js';
import { connectionError, isTemporary } from '../../electron/core/mail/connect.js';
import { reportFailure } from '../../electron/cli/pli.js';
import { CLI_HINTS, cliMessage } from '../../electron/cli/hints.js';
import { directoryLine, inboxLine, refusedRoomLine, sendingWarningLine, statusLine } from '../../electron/cli/status.js';
import { toInboxItem, toIpcError } from '../../electron/ipc/views.js';
import { writeNewFile } from '../../electron/ipc/files.js';
import { contract, directoryWarningSchema, errorSchema, inboxItemSchema } from '../../shared/ipc.js';
import Database from 'better-sqlite3';
import { DAY, directoryWarning } from '../../electron/core/authority/directory.js';
import { checkFreshnessForSending } from '../../electron/core/services/policy.js';
import { listInbox, refusedRoom } from '../../electron/core/mail/inbox.js';
import { diskFullError, faultError, readFault, writeFault } from '../../electron/core/faults.js';
import i18next from 'i18next';
import { describeErrorWith, type ErrorData } from '../../shared/errors.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** A CLI option (--to, --home...) or a `pli <command>` hint. "pli n° 3", "pli refusé" are words. */
const CLI_WORDS = /(^|[\s(«'"`])--[a-z]|\bpli (init|id|encrypt|decrypt|inspect|authority|directory|mailbox|send|outbox|receive|inbox|open|audit|convention|due)\b/;

/** Every error code the core can throw, read from its sources (literal codes and the dynamic ones). */
/** The codes the core and the desktop app's main process (electron/ipc) make. */
function coreCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of [...sources('electron/core'), ...sources('electron/ipc')]) {
    const text = read(file);
    for (const m of text.matchAll(/(?:inputError|securityError|temporaryError)\(\s*'([a-z0-9-]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/new PliError\(\s*'[a-z]+',\s*'([a-z0-9-]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/refusedDirectory\(\s*'([a-z0-9-]+)'/g)) codes.add(m[1]!);
  }
  // Built codes: authority/signed.ts ('not-' / 'malformed-' + envelope kind).
  codes.delete('not-');
  codes.delete('malformed-');
  for (const kind of ['certificate', 'directory', 'keyfile']) codes.add(`not-${kind}`).add(`malformed-${kind}`);
  return codes;
}
/** Codes the IPC layer (ipc/views.ts toIpcError) and the renderer (api.ts) make themselves. */
const FRONT_END_CODES = ['bad-request', 'busy', 'unexpected', 'bridge', 'bad-answer'];

/**
 * Deliberately left to the core's French message (the interface shows it as it is), because one
 * code covers sentences too different to word from params (busy, not-addressed,
 * unknown-id, profile-kind, bad-passphrase...), the sentence carries a French detail built by the
 * core (bad-card, bad-certificate, malformed, tampered, profile-tampered...), the
 * sentence is the system's fault without a place to word (io-error, too-many-files...), or the code is
 * the command line's or the officer's tools' only (bad-days, bad-role, export-*, anchor-*...).
 * A new code must be added either to fr.json/en.json `errors` or here.
 */
const FALLBACK = [
  'anchor-foreign', 'anchor-not-certified', 'anchor-signature', 'argon2', 'audit-rebuilt', 'audit-signer', 'audit-tampered', 'audit-unreadable', 'authority-changed',
  'authority-locked', 'bad-card', 'bad-certificate', 'bad-characters', 'bad-clock', 'bad-days', 'bad-directory',
  'bad-directory-certificate', 'bad-directory-signature', 'bad-email', 'bad-endpoint', 'bad-file-name', 'bad-kdf-params', 'bad-keyfile',
  'bad-manifest', 'bad-reason', 'bad-role', 'bad-setting', 'bad-size', 'busy', 'card-conflict',
  'corrupt-secrets', 'empty-log', 'empty-secret', 'export-date', 'export-modified', 'export-not-certified',
  'export-revoked', 'export-signature', 'export-signer', 'file-changed', 'folder-changed', 'inbox-file-taken',
  'io-error', 'key-change-date', 'key-change-replayed', 'key-conflict', 'malformed', 'malformed-certificate',
  'malformed-directory', 'malformed-keyfile', 'manifest-too-large', 'missing-folder',
  'no-file', 'no-keys', 'no-private-keys', 'not-a-card', 'not-a-file', 'not-addressed', 'not-audit-anchor',
  'not-audit-signature', 'not-certificate', 'not-directory', 'not-habilitated', 'not-keyfile', 'password-forbidden', 'pin-mismatch',
  'mailbox-tampered', 'mailbox-unsealed', 'outbox-too-big', 'outbox-missing', 'outbox-modified', 'target-exists', 'profile-encoding', 'profile-key-locked', 'profile-kind', 'profile-tampered',
  'recipient-not-certified', 'revoke-self', 'role', 'rollback', 'sender-expired', 'sender-not-certified', 'sender-not-yet-valid',
  'sender-revoked', 'sender-role', 'tampered', 'temp-tampered', 'too-big', 'too-large', 'too-many-files', 'too-many-recipients',
  'trusts-other', 'unknown-id', 'worker-missing', 'worker-stopped',
  // The conventions (issue 14): no screen yet, the core's sentence until it has one.
  'already-terminated', 'ambiguous-convention-id', 'bad-convention-id', 'bad-date', 'bad-expect', 'bad-party', 'bad-person',
  'bad-types', 'not-certified', 'not-party-member', 'unknown-convention', 'unknown-party',
  // The desktop app's main process (electron/ipc), its own sentences: a dialog's file, a session gone.
  'ca-choose-again', 'no-ca-chosen', 'not-revealable', 'not-signed-in', 'offered-gone', 'other-identity', 'out-is-input',
  'password-required', 'unknown-channel', 'wrong-file',
];

type Strings = { errors: Record<string, string>; inbox: { reasons: Record<string, string> }; directory: { freshness: Record<string, string> } };
const fr = JSON.parse(read('renderer/i18n/fr.json')) as Strings;
const en = JSON.parse(read('renderer/i18n/en.json')) as Strings;
// The renderer's i18n setup (renderer/i18n/index.ts), on the same files.
const i18n = i18next.createInstance();
await i18n.init({ resources: { fr: { translation: fr }, en: { translation: en } }, lng: 'fr', fallbackLng: 'fr', interpolation: { escapeValue: false }, showSupportNotice: false } as never);
/** renderer/errors.ts describeError, with this instance. */
const describeError = (error: ErrorData) => describeErrorWith({ exists: (key) => i18n.exists(key), t: (key, params) => i18n.t(key, params) }, error);
const placeholders = (text: string): string[] => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!).sort();

const homes: string[] = [];
afterAll(() => { for (const home of homes) rmSync(home, { recursive: true, force: true }); });
const freshHome = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pli-errors-'));
  homes.push(dir);
  return path.join(dir, 'profil');
};
const thrown = (run: () => unknown): PliError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PliError);
    return error as PliError;
  }
  throw new Error('expected a PliError');
};

describe('core errors name no CLI flag; the CLI adds its hint', () => {
  it('no string of the core names a CLI option or a pli command (the recipients\' mail body excepted)', () => {
    const found: string[] = [];
    for (const file of [...sources('electron/core'), ...sources('electron/ipc')]) {
      read(file).split('\n').forEach((line, index) => {
        const code = line.trim();
        if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
        // The mail body tells the recipient (not a front end's user) how to open the container.
        if (file.endsWith(path.join('mail', 'outbox.ts')) && code.startsWith("'  - en ligne de commande")) return;
        // Node's own options for the reading child process (its heap), never shown to anyone.
        if (file.endsWith(path.join('indicators', 'read.ts')) && code.startsWith('execArgv: [`--max-old-space-size=')) return;
        const text = code.replace(/\s\/\/ .*$/, '');
        if (CLI_WORDS.test(text)) found.push(`${file}:${index + 1}: ${code.slice(0, 120)}`);
      });
    }
    expect(found).toEqual([]);
  });

  it('exercised: the core says what to do in words, with params; the CLI line adds the option or command', () => {
    const home = freshHome();
    const missing = thrown(() => openProfile(home));
    expect(missing.code).toBe('no-profile');
    expect(missing.message).not.toMatch(CLI_WORDS);
    expect(missing.params).toEqual({ home });
    expect(cliMessage(missing)).toBe(`${missing.message} (commande : pli --home ${home} init)`);

    const { profile } = initProfile(home);
    try {
      const noOwn = thrown(() => resolveOwn(profile.db));
      expect([noOwn.code, noOwn.message]).toEqual(['no-own-identity', "Ce profil n'a aucune identité personnelle : créez-en une d'abord."]);
      expect(cliMessage(noOwn)).toMatch(/\(commande : pli id new\)$/);

      const unknown = thrown(() => resolveIdentity(profile.db, 'abcdef0123456789'));
      expect(unknown.code).toBe('unknown-id');
      expect(unknown.message).not.toMatch(CLI_WORDS);
      expect(unknown.params).toEqual({ id: 'abcdef0123456789', own: false });
      expect(cliMessage(unknown)).toMatch(/\(commande : pli id import ; voir pli id list\)$/);

      const noMailbox = thrown(() => requireMailbox(profile.db));
      expect(noMailbox.message).not.toMatch(CLI_WORDS);
      expect(cliMessage(noMailbox)).toMatch(/\(commande : pli mailbox set ; ou option --folder DOSSIER\)$/);
    } finally {
      profile.close();
    }
  });

  it('every hint of the CLI belongs to a code the core throws (no stale hint)', () => {
    const codes = coreCodes();
    expect(Object.keys(CLI_HINTS).filter((code) => !codes.has(code))).toEqual([]);
    // A code without a hint keeps the core's message as it is.
    expect(cliMessage(inputError('bad-name', 'Nom manquant.'))).toBe('Nom manquant.');
    // A hint that depends on the params: only the sealed container's "exists" names --out.
    expect(cliMessage(inputError('exists', 'Le fichier x existe déjà.', { path: 'x' }))).toBe('Le fichier x existe déjà. (option --out)');
    expect(cliMessage(inputError('exists', "L'identité existe déjà."))).toBe("L'identité existe déjà.");
  });
});

describe('the interface words errors by code (fr + en), the core\'s message as fallback', () => {
  it('every code the core, the IPC layer or the renderer can produce has fr and en wording, or is listed as left to the fallback', () => {
    const codes = new Set([...coreCodes(), ...FRONT_END_CODES]);
    const worded = new Set(Object.keys(fr.errors));
    expect(Object.keys(en.errors).sort()).toEqual([...worded].sort());
    const fallback = new Set(FALLBACK);
    expect([...codes].filter((c) => !worded.has(c) && !fallback.has(c)).sort(), 'codes with neither wording nor a place in FALLBACK').toEqual([]);
    expect([...worded].filter((c) => fallback.has(c)), 'worded and listed as fallback').toEqual([]);
    expect([...worded, ...fallback].filter((c) => !codes.has(c)).sort(), 'stale: no such code any more').toEqual([]);
  });

  it('fr and en use the same params, and no wording names a CLI option or command', () => {
    for (const code of Object.keys(fr.errors)) {
      expect(placeholders(en.errors[code]!), code).toEqual(placeholders(fr.errors[code]!));
      expect(fr.errors[code], code).not.toMatch(CLI_WORDS);
      expect(en.errors[code], code).not.toMatch(CLI_WORDS);
      // A server's reply is never a param of a sentence: it is the detail.
      expect(placeholders(fr.errors[code]!), code).not.toContain('server');
      expect(placeholders(fr.errors[code]!), code).not.toContain('system');
    }
  });

  it('describeError: the key for a known code in the chosen language, the core\'s French message otherwise', async () => {
    const error = toIpcError(inputError('unknown-inbox', 'Aucun pli n° 7 dans la boîte de réception : vérifiez le numéro dans la liste des plis reçus.', { id: 7 }));
    await i18n.changeLanguage('en');
    expect(describeError(error)).toEqual({ message: 'No container no. 7 in the inbox: check the number in the list of received containers.', detail: null });
    const unknown = { kind: 'input' as const, code: 'some-new-code', message: 'Message du cœur, en français.', params: {} };
    expect(describeError(unknown).message).toBe('Message du cœur, en français.');
    // A known code thrown without the param its wording needs: the core's sentence, never "{{id}}".
    expect(describeError({ code: 'unknown-inbox', message: 'Aucun pli n° 7.', params: {} }).message).toBe('Aucun pli n° 7.');
    await i18n.changeLanguage('fr');
    // fr.json's typography (test/unit/typography.test.ts): non-breaking spaces after « n° » and before « : ».
    expect(describeError(error).message).toBe('Aucun pli n°\u00a07 dans la boîte de réception\u00a0: vérifiez le numéro dans la liste des plis reçus.');
  });

  it('the app words without commands, paths or formats what the core tells IT support (found by a review of the words shown)', async () => {
    await i18n.changeLanguage('fr');
    // A profile others can read: the chmod commands only as the technical detail.
    const exposed = toIpcError(securityError('profile-permissions', 'Le profil … « chmod 700 /srv/profil » …', { home: '/srv/profil', what: 'le dossier', mode: '755', shared: false, system: 'le dossier : droits 755 ; chmod 700 /srv/profil ; chmod 600 /srv/profil/profile.sqlite*' }));
    const shown = describeError(exposed);
    expect(shown.message).toContain('«\u00a0profil\u00a0»');
    expect(shown.message).not.toMatch(/chmod|sqlite|755/);
    expect(shown.detail).toContain('chmod 700 /srv/profil');
    // A missing file or one that exists: its own name, the full path only as the detail.
    for (const [code, words] of [['missing-file', 'est introuvable'], ['exists', 'existe déjà']] as const) {
      const answer = describeError(toIpcError(inputError(code, `Le cœur : /srv/dossier/etat.pli ${words}.`, { path: '/srv/dossier/etat.pli' })));
      expect(answer.message).toContain(`«\u00a0etat.pli\u00a0» ${words}`);
      expect(answer.message).not.toContain('/srv');
      expect(answer.detail).toBe('/srv/dossier/etat.pli');
    }
    // The same codes thrown elsewhere without a path (another sentence): the core's own.
    expect(describeError(toIpcError(inputError('exists', "L'identité existe déjà sur ce poste."))).message).toBe("L'identité existe déjà sur ce poste.");
    // The CA's format and the convention's calendar: no PEM marker, no CLI syntax.
    expect(describeError(toIpcError(inputError('bad-ca', '/srv/ca.cer n\'est pas un certificat PEM.'))).message).not.toMatch(/PEM|\/srv/);
    expect(describeError(toIpcError(inputError('bad-schedule', 'Calendrier : quarterly:J …'))).message).not.toMatch(/quarterly/);
  });

  it('an IMAP command refused with imapflow\'s parsed reply (an object, not words) is worded from its text, never « erreur inattendue »', () => {
    // What imapflow throws for a NO or BAD it has not worded (a Dovecot stopped mid-receive, CI 2026-12-05).
    const refused = (responseText?: string) => Object.assign(new Error('Command failed'), {
      response: { tag: 'A7', command: 'NO', attributes: [{ type: 'TEXT', value: 'Server shutting down.' }] }, responseStatus: 'NO', ...(responseText ? { responseText } : {}),
    });
    const endpoint = { host: 'imap.mairie.test', port: 143, mode: 'starttls' } as never;
    const worded = connectionError(refused('Server shutting down.'), 'IMAP', endpoint);
    expect([worded.kind, worded.code, worded.params.server]).toEqual(['temporary', 'server-error', 'Server shutting down.']);
    expect(worded.message).toContain('Server shutting down.');
    expect(connectionError(refused(), 'IMAP', endpoint).params.server).toBe('Command failed');
    // A reply line as nodemailer gives it stays first.
    expect(connectionError(Object.assign(new Error('x'), { response: '451 4.3.0 Try again later', responseCode: 451 }), 'SMTP', endpoint).params.server).toBe('451 4.3.0 Try again later');
  });

  it('a mail server\'s reply reaches the interface only as the detail, never in the message (both languages)', async () => {
    const reply = 'Connection refused <script>x</script> ECONNREFUSED';
    const core = connectionError(Object.assign(new Error(reply), { code: 'ECONNREFUSED' }), 'SMTP', { host: 'smtp.mairie.test', port: 465, starttls: false } as never);
    expect(core.code).toBe('server-unreachable');
    expect(core.params.server).toBe(reply);
    const ipc = errorSchema.parse(toIpcError(core));
    expect(ipc.params).toEqual({ protocol: 'SMTP', host: 'smtp.mairie.test', port: 465 });
    expect(ipc.detail).toBe(reply);
    for (const language of ['fr', 'en']) {
      await i18n.changeLanguage(language);
      const shown = describeError(ipc);
      expect(shown.message).toContain('smtp.mairie.test:465');
      expect(shown.message).not.toContain('ECONNREFUSED');
      expect(shown.message).not.toContain('{{');
      expect(shown.detail).toBe(reply);
    }
    await i18n.changeLanguage('fr');
    // An unexpected error's own text (a bug's, often English) is a detail too.
    const bug = toIpcError(new TypeError('Cannot read properties of undefined'));
    expect(bug.code).toBe('unexpected');
    expect(describeError(bug)).toEqual({ message: fr.errors.unexpected, detail: 'Cannot read properties of undefined' });
  });

  it('another receive under way (receive-busy): the app says it in each language, never a process number; the CLI keeps it', async () => {
    // The core's sentence as core/mail/imap.ts makes it: the holder's process for the command line.
    const busy = temporaryError('receive-busy', "Une réception est déjà en cours sur ce poste (processus 4242) pour ce profil : rien n'a été relevé par celle-ci. Réessayez dans quelques instants.");
    const ipc = errorSchema.parse(toIpcError(busy));
    for (const [language, strings] of [['fr', fr], ['en', en]] as const) {
      await i18n.changeLanguage(language);
      const shown = describeError(ipc);
      expect(shown.message, language).toBe(strings.errors['receive-busy']);
      expect(shown.message, language).not.toMatch(/4242|processus|process\b|pid/i);
    }
    await i18n.changeLanguage('fr');
    expect(en.errors['receive-busy']).not.toBe(fr.errors['receive-busy']);
    expect(cliMessage(busy)).toContain('(processus 4242)');
  });

  it('a missing file of the program (worker-missing): reinstall or call IT support in words; the developer\'s command only as the detail', async () => {
    const { workerEntry } = await import('../../electron/core/workers.js');
    const missing = thrown(() => workerEntry('argon2', pathToFileURL(path.join(path.dirname(freshHome()), 'argon2.js')).href));
    expect([missing.code, missing.exitCode]).toEqual(['worker-missing', 3]);
    expect(missing.message).toMatch(/installation de Pli est incomplète.*Réinstallez Pli.*support informatique/);
    expect(missing.message).not.toMatch(/npm|build|\.js\b/);
    const ipc = errorSchema.parse(toIpcError(missing));
    expect(describeError(ipc).message).not.toMatch(/npm|build/);
    expect(ipc.detail).toMatch(/argon2\.worker\.js.*npm run build/);
    // The command line keeps the command, as its hint.
    expect(cliMessage(missing)).toMatch(/\(depuis les sources : npm run build\)$/);
  });

  it('PliError params are kept as given and frozen; kind and exit code unchanged', () => {
    const error = temporaryError('server-unreachable', 'Injoignable.', new Error('x'), { host: 'h', port: 1 });
    expect([error.kind, error.exitCode, error.params]).toEqual(['temporary', 3, { host: 'h', port: 1 }]);
    expect(Object.isFrozen(error.params)).toBe(true);
    expect(securityError('tampered', 'Modifié.').params).toEqual({});
  });
});

describe('watch-mode news are typed values; the CLI prints the same French lines as before', () => {
  it('statusLine', () => {
    expect(statusLine({ kind: 'sent', id: 4, to: 'mairie@example.test' })).toBe('Envoyé : 4 vers mairie@example.test');
    expect(statusLine({ kind: 'failed', id: 5, to: 'x@y.test', server: '550 5.1.1 unknown user' })).toBe("Échec d'envoi : 5 vers x@y.test : 550 5.1.1 unknown user");
    expect(statusLine({ kind: 'impossible', error: inputError('mail-auth', 'Le serveur SMTP h:1 refuse l\'identifiant ou le mot de passe de la boîte : corrigez-les dans les réglages de la boîte.') }))
      .toBe("Envoi impossible : Le serveur SMTP h:1 refuse l'identifiant ou le mot de passe de la boîte : corrigez-les dans les réglages de la boîte. (commande : pli mailbox set)");
    expect(statusLine({ kind: 'attachment-refused', name: 'gros.pli' })).toBe('Pièce jointe gros.pli refusée : taille hors limites (message déplacé dans Pli/Refusés).');
    expect(statusLine({ kind: 'reconnecting', retryInSeconds: 4, error: null })).toBe('Connexion perdue avec le serveur IMAP ; nouvelle tentative dans 4 s.');
    expect(statusLine({ kind: 'reconnecting', retryInSeconds: 2, error: temporaryError('server-unreachable', 'Le serveur IMAP h:993 est injoignable pour le moment (ECONNREFUSED) : réessayez plus tard.') }))
      .toBe('Connexion perdue (Le serveur IMAP h:993 est injoignable pour le moment (ECONNREFUSED) : réessayez plus tard.) ; nouvelle tentative dans 2 s.');
    const busy = temporaryError('receive-busy', 'Une réception est déjà en cours sur ce poste.');
    expect(statusLine({ kind: 'receive-busy', error: busy })).toBe(busy.message);
  });

  it('the watcher reacts to the kind, never to a sentence', () => {
    const watcher = read('electron/ipc/watcher.ts');
    expect(watcher).not.toMatch(/Envoyé|Échec d'envoi|Envoi impossible|\.test\(line\)|startsWith\(/);
    expect(watcher).toMatch(/switch \(status\.kind\)/);
  });
});

describe('the directory\'s freshness and the inbox\'s refusals are data; the CLI keeps its lines', () => {

  it('past its next update the directory is a typed warning (kind, dates, days), worded by each front end', () => {
    const home = freshHome();
    const { profile } = initProfile(home);
    try {
      expect(directoryWarning(profile.db)).toBeNull(); // no authority pinned
      // The trust row as the directory import leaves it (the dates are what matters here).
      const next = Date.UTC(2026, 0, 8);
      profile.db.prepare(`INSERT INTO trust (one, name, public_key, fpr, serial, issued, next_update, allow_password, grace_days, pinned_at, imported_at)
        VALUES (1, 'SSI', ?, ?, 1, 0, ?, 1, 30, 0, 0)`).run(Buffer.alloc(32), Buffer.alloc(32), next);

      expect(directoryWarning(profile.db, next - 1)).toBeNull();
      const stale = directoryWarning(profile.db, next + 3 * DAY + 1000)!;
      expect(stale).toEqual({ kind: 'directory-stale', nextUpdate: next, refuseAfter: next + 30 * DAY, daysLate: 3, daysLeft: 27 });
      expect(directoryWarningSchema.parse(stale)).toEqual(stale);
      expect(checkFreshnessForSending(profile.db, next + 3 * DAY + 1000)).toEqual([stale]);
      expect(directoryLine(stale)).toBe("pli: attention : l'annuaire devait être mis à jour le 2026-01-08 ; sans nouvel annuaire, les envois seront refusés à partir du 2026-02-07. Importez le dernier annuaire de l'officier SSI.");
      expect(sendingWarningLine(stale)).toBe("Attention : l'annuaire devait être mis à jour le 2026-01-08. Sans nouvel annuaire, les envois seront refusés à partir du 2026-02-07.");
      const expired = directoryWarning(profile.db, next + 31 * DAY)!;
      expect([expired.kind, expired.daysLate, expired.daysLeft]).toEqual(['directory-expired', 31, 0]);
      expect(directoryLine(expired)).toBe("pli: attention : l'annuaire devait être mis à jour le 2026-01-08 : les envois sont refusés. Importez le dernier annuaire de l'officier SSI.");
      // The interface words the same value through i18n (the keys App.tsx and NewContainer.tsx use).
      for (const strings of [fr, en]) {
        for (const state of ['stale', 'expired']) expect(placeholders(strings.directory.freshness[state]!).filter((p) => p !== 'next' && p !== 'refuse')).toEqual([]);
      }
    } finally {
      profile.close();
    }
  });

  it('the contract carries the warning as data: a sentence from main is refused by the renderer\'s parser', () => {
    const warning = { kind: 'directory-stale', nextUpdate: 1, refuseAfter: 2, daysLate: 0, daysLeft: 1 };
    const sealed = { status: 'done', out: '/tmp/x.pli', size: 1, containerId: 'ab', recipients: [] };
    expect(contract['containers:encrypt'].response.safeParse({ ...sealed, warnings: [warning] }).success).toBe(true);
    expect(contract['containers:encrypt'].response.safeParse({ ...sealed, warnings: ["Attention : l'annuaire devait être mis à jour."] }).success).toBe(false);
    const sent = { status: 'done', containerId: 'ab', destinations: [], size: 1, items: [], sendError: null };
    expect(contract['outbox:send'].response.safeParse({ ...sent, warnings: [warning] }).success).toBe(true);
    expect(contract['outbox:send'].response.safeParse({ ...sent, warnings: ['Attention.'] }).success).toBe(false);
  });

  it('a refused inbox row reaches the interface as code + params + the core\'s French; the interface words known codes (fr + en)', async () => {
    const home = freshHome();
    initProfile(home).profile.close();
    // The attacker of docs/profile.md writes rows straight into the database: one with a code
    // the interface knows, one with a code nobody knows.
    const raw = new Database(path.join(home, DB_FILE));
    try {
      const insert = raw.prepare(`INSERT INTO inbox (container_id, sha256, size, state, reason, flags, sender_id, created_ms, arrived_at, source, origin, path)
        VALUES (NULL, ?, 10, 'refused', ?, ?, ?, NULL, 1, 'folder', 'x.pli', '/nulle-part')`);
      insert.run('a'.repeat(64), 'bad-signature', null, 'abcdef0123456789');
      insert.run('b'.repeat(64), 'code-inconnu', 'refused-at-opening', null);
    } finally {
      raw.close();
    }
    const profile = openProfile(home);
    try {
      const rows = listInbox(profile.db);
      const items = rows.map((row) => inboxItemSchema.parse(toInboxItem(profile.db, row)));
      expect(items.map((i) => i.refusal)).toEqual([
        { code: 'bad-signature', params: { id: rows[0]!.id, when: 'reception', senderId: 'abcdef0123456789' }, message: `Le pli n° ${rows[0]!.id} a été refusé à la réception (bad-signature) : il ne s'ouvre pas. Signalez-le à l'officier SSI.` },
        { code: 'code-inconnu', params: { id: rows[1]!.id, when: 'opening', senderId: null }, message: `Le pli n° ${rows[1]!.id} a été refusé à l'ouverture (code-inconnu) : il ne s'ouvre pas. Signalez-le à l'officier SSI.` },
      ]);
      // The interface: the known code in each language, never the French sentence in English.
      expect(fr.inbox.reasons['bad-signature']).toBeTruthy();
      expect(Object.keys(en.inbox.reasons).sort()).toEqual(Object.keys(fr.inbox.reasons).sort());
      expect(en.inbox.reasons['bad-signature']).not.toBe(fr.inbox.reasons['bad-signature']);
      expect(fr.inbox.reasons['code-inconnu']).toBeUndefined();
      // The CLI's lines, as before.
      expect(inboxLine(profile.db, rows[0]!)).toBe(`${rows[0]!.id}  expéditeur inconnu abcdef0123456789  refusé (bad-signature)`);
      expect(inboxLine(profile.db, rows[1]!)).toBe(`${rows[1]!.id}  expéditeur illisible  refusé (code-inconnu)  ATTENTION : refusé à l'ouverture : son contenu n'est pas conforme (signalez-le à l'officier SSI)`);
      expect(refusedRoom(profile.db)).toEqual({ bytes: 20, files: 2 });
      expect(refusedRoomLine(refusedRoom(profile.db))).toBe("Place prise par les plis refusés : 0,0 Mo (2 fichiers conservés pour l'officier SSI, supprimés 30 jours après leur arrivée ; au-delà de 1 Mo, seule la trace est gardée).");
    } finally {
      profile.close();
    }
  });
});

describe('faults carry their place (and sizes): the interface words the common ones', () => {
  const errno = (code: string, file?: string) => Object.assign(new Error(`${code}: système`), { code, ...(file ? { path: file } : {}) });

  it('disk-full, read-only, no-permission, name-too-long, name-exhausted: params, then fr and en wording', async () => {
    const full = diskFullError('/media/cle', 5 * 1024 * 1024, 1024);
    expect([full.code, full.params]).toEqual(['disk-full', { place: '/media/cle', placeKind: 'folder', needed: 5 * 1024 * 1024, free: 1024 }]);
    const profileFull = faultError(errno('SQLITE_FULL'), { kind: 'profile', path: '/home/agent/.pli' })!;
    expect(profileFull.params).toEqual({ place: '/home/agent/.pli', placeKind: 'profile' });
    expect(faultError(errno('EROFS'), { kind: 'folder', path: '/media/cle' })!.params).toEqual({ place: '/media/cle', placeKind: 'folder' });
    expect(faultError(errno('EACCES'), { kind: 'folder', path: '/srv' })!.params).toEqual({ place: '/srv', placeKind: 'folder' });
    expect(faultError(errno('ENAMETOOLONG'), { kind: 'folder', path: '/srv' })!.params).toEqual({ place: '/srv', placeKind: 'folder' });
    // No place known: no param, so the interface keeps the core's sentence (never a French place in English).
    const nowhere = faultError(errno('ENOSPC'), null)!;
    expect([nowhere.code, nowhere.params]).toEqual(['disk-full', {}]);
    await i18n.changeLanguage('en');
    try {
      // The place by its own name; its full path is the folded detail (issue 15, shared/errors.ts).
      expect(describeError(toIpcError(errno('EROFS', '/media/cle/x.csv'))).message).toBe(en.errors['read-only']!.replace('{{place}}', 'cle'));
      expect(describeError(toIpcError(full))).toEqual({ message: 'Not enough room in cle: nothing was kept. Free some room (or choose another folder), then try again.', detail: '/media/cle' });
      expect(describeError(toIpcError(nowhere)).message).toBe(nowhere.message);
      const exhausted = inputError('name-exhausted', 'Trop de fichiers nommés « a.csv »…', { name: 'a.csv', place: '/srv', placeKind: 'folder' });
      expect(describeError(toIpcError(exhausted)).message).toMatch(/^Too many files named “a\.csv” in srv/);
    } finally {
      await i18n.changeLanguage('fr');
    }
  });

  it('too many files open at once (EMFILE, ENFILE): Pli opened them, so fewer files or several plis, never « fermez des applications »', () => {
    for (const code of ['EMFILE', 'ENFILE']) {
      for (const place of [{ kind: 'folder' as const, path: '/media/cle' }, null]) {
        const error = faultError(errno(code), place)!;
        expect([error.code, error.exitCode], code).toEqual(['too-many-files', 3]);
        expect(error.message, code).not.toMatch(/fermez des applications/i);
        expect(error.message, code).toMatch(/^Pli a dû ouvrir trop de fichiers à la fois/);
        expect(error.message, code).toMatch(/moins de fichiers.*plusieurs plis/);
      }
    }
  });

  it('the sink\'s name-exhausted carries the name and the folder', () => {
    expect(read('electron/core/container/sinks.ts')).toMatch(/inputError\('name-exhausted', [^\n]*\{ name: printable\(name\), place: this\.outDir, placeKind: 'folder' \}\)/);
  });
});

describe('faults of the profile and of SQLite: one wording for the CLI and the app', () => {
  const errno = (code: string, file?: string) => Object.assign(new Error(`${code}: système`), { code, ...(file ? { path: file } : {}) });
  const profileDir = '/home/agent/.pli';

  it('SQLite\'s extended codes by their primary code: busy, read-only, cannot open, damaged', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']) {
      expect(toIpcError(errno(code), profileDir).code, code).toBe('busy');
      const stderr = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        expect(reportFailure(errno(code), profileDir), code).toBe(3);
      } finally {
        process.stderr.write = stderr;
      }
    }
    for (const code of ['SQLITE_READONLY_DBMOVED', 'SQLITE_READONLY_DIRECTORY', 'SQLITE_CANTOPEN_NOTEMPDIR', 'SQLITE_CANTOPEN_DIRTYWAL']) {
      expect(faultError(errno(code), { kind: 'profile', path: profileDir })?.code, code).toBe('profile-read-only');
    }
    for (const code of ['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_NOTADB']) {
      const damaged = faultError(errno(code), { kind: 'profile', path: profileDir })!;
      expect([damaged.code, damaged.exitCode, damaged.params], code).toEqual(['profile-damaged', 1, { place: profileDir, placeKind: 'profile' }]);
      expect(damaged.message).toMatch(/^Le profil \/home\/agent\/\.pli est endommagé : .*sauvegarde.*officier SSI\.$/);
    }
  });

  it('the app names the profile (its home) as the CLI does: full, read-only, damaged, worded in fr and en', async () => {
    const cases = [['SQLITE_FULL', 'profile-full', 'temporary'], ['SQLITE_READONLY', 'profile-read-only', 'input'], ['SQLITE_NOTADB', 'profile-damaged', 'input']] as const;
    for (const [code, expected, kind] of cases) {
      const ipc = errorSchema.parse(toIpcError(errno(code), profileDir));
      expect([ipc.code, ipc.kind, ipc.params]).toEqual([expected, kind, { place: profileDir, placeKind: 'profile' }]);
      expect(ipc.message).toContain(`profil ${profileDir}`);
      for (const language of ['fr', 'en']) {
        await i18n.changeLanguage(language);
        const shown = describeError(ipc);
        expect(shown.message).toContain('.pli');
        expect(shown.message).not.toMatch(/\{\{|un dossier de ce poste|SQLITE/);
        expect(shown.detail).toBe(profileDir);
      }
    }
    await i18n.changeLanguage('fr');
  });

  it('a rejection that is no object (null, undefined, a string) is an unexpected error, never a crash', () => {
    for (const thrownValue of [null, undefined, 'texte', 42]) {
      const ipc = toIpcError(thrownValue, profileDir);
      expect(ipc.code).toBe('unexpected');
      expect(ipc.detail).toBe(String(thrownValue));
      expect(isTemporary(thrownValue)).toBe(false);
      const error = connectionError(thrownValue, 'SMTP', { host: 'smtp.example', port: 465, mode: 'tls' } as never);
      expect(error).toBeInstanceOf(PliError);
    }
  });

  it('reading a file is never blamed on a write: no right to read, a folder, missing', () => {
    const denied = readFault('/srv/depot/etat.csv', errno('EACCES', '/srv/depot/etat.csv'));
    expect([denied.code, denied.exitCode, denied.params]).toEqual(['no-read-permission', 1, { path: '/srv/depot/etat.csv' }]);
    expect(denied.message).toMatch(/^Droits insuffisants pour lire \/srv\/depot\/etat\.csv/);
    expect(denied.message).not.toMatch(/écrire/);
    expect(readFault('/srv/depot', errno('EISDIR')).code).toBe('not-a-file');
    expect(readFault('/srv/absent.pli', errno('ENOENT')).code).toBe('missing-file');
  });

  it('writing a new file: the folder\'s fault in its words, the system\'s text only as the detail', () => {
    expect(writeFault('/media/cle/x.pli', errno('EROFS', '/media/cle/x.pli.1a2b.part')).params).toEqual({ place: '/media/cle', placeKind: 'folder' });
    expect(writeFault('/media/cle/x.pli', errno('EACCES')).code).toBe('no-permission');
    expect(writeFault('/media/cle/x.pli', errno('ENOSPC')).code).toBe('disk-full');
    expect(writeFault('/media/cle/x.pli', errno('ENOENT')).code).toBe('no-folder');
    expect(writeFault('/media/cle/x.pli', errno('ENAMETOOLONG')).code).toBe('name-too-long');
    const other = writeFault('/media/cle/x.pli', errno('EXDEV'));
    expect([other.code, other.params.name, other.params.system]).toEqual(['cannot-write', 'x.pli', 'EXDEV: système']);
    expect(other.message).not.toMatch(/EXDEV/);
  });
});

describe('the desktop app\'s own writes: the system\'s text is the detail, the message in words', () => {
  it('cannot-write: the file\'s name as a param, the system\'s text only as the detail; a known fault in its words', async () => {
    const dir = path.dirname(freshHome());
    // A name ending with "/" (open() answers EISDIR): no listed fault, so cannot-write.
    const odd = path.join(dir, 'carte.pli-carte') + '/';
    const error = await writeNewFile(odd, 'x', 0o644).then(() => null, (e: unknown) => e as PliError);
    expect(error).toBeInstanceOf(PliError);
    expect(error!.code).toBe('cannot-write');
    expect(error!.message).not.toMatch(/EISDIR|illegal operation/);
    expect(error!.params.name).toBe('carte.pli-carte');
    const ipc = errorSchema.parse(toIpcError(error));
    expect(ipc.params).toEqual({ name: 'carte.pli-carte' });
    expect(ipc.detail).toMatch(/EISDIR/);
    for (const language of ['fr', 'en']) {
      await i18n.changeLanguage(language);
      const shown = describeError(ipc);
      expect(shown.message).toContain('carte.pli-carte');
      expect(shown.message).not.toMatch(/EISDIR|\{\{/);
      expect(shown.detail).toMatch(/EISDIR/);
    }
    await i18n.changeLanguage('fr');
  });

  it('a folder that does not exist (ENOENT of the parent) or is a file (ENOTDIR): no-folder, naming the folder, in words', async () => {
    const dir = path.dirname(freshHome());
    const absent = path.join(dir, 'absent');
    writeFileSync(path.join(dir, 'fichier'), 'x');
    for (const [target, folder] of [[path.join(absent, 'carte.pli-carte'), absent], [path.join(dir, 'fichier', 'carte.pli-carte'), path.join(dir, 'fichier')]] as const) {
      const error = await writeNewFile(target, 'x', 0o644).then(() => null, (e: unknown) => e as PliError);
      expect(error).toBeInstanceOf(PliError);
      expect([error!.code, error!.exitCode, error!.params]).toEqual(['no-folder', 1, { place: folder, placeKind: 'folder' }]);
      expect(error!.message).toContain(folder);
      expect(error!.message).not.toMatch(/ENOENT|ENOTDIR|no such file|not a directory/);
      for (const language of ['fr', 'en']) {
        await i18n.changeLanguage(language);
        const shown = describeError(errorSchema.parse(toIpcError(error)));
        expect(shown.message).toContain(path.basename(folder));
        expect(shown.message).not.toMatch(/ENOENT|ENOTDIR|\{\{/);
      }
    }
    await i18n.changeLanguage('fr');
  });
});
