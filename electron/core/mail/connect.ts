// Connections to the functional mailbox: only with the settings the password was sealed with
// (requireVerifiedSettings, before any socket), TLS always on and always verified (a private CA is
// trusted instead of the usual authorities, never in place of the check), and one place that turns the many shapes of network, TLS and server errors into the
// CLI's exit codes (docs/mailbox.md section 7).
// nodemailer and imapflow (with their MIME and encoding tables) are loaded when a connection is
// made, not at start-up: every command reaches this module (receipts, outbox), few connect (issue 13).
import type { SecureContext } from 'node:tls';
import type { ImapFlow } from 'imapflow';
import { PliError, inputError, securityError, temporaryError } from '../errors.js';
import { requireVerifiedSettings, type Endpoint, type MailboxSettings } from './settings.js';

export async function tlsOptions(settings: MailboxSettings): Promise<{ ca?: string | string[]; secureContext?: SecureContext; minVersion: 'TLSv1.2'; rejectUnauthorized: true }> {
  if (settings.caPem) return { ca: settings.caPem, minVersion: 'TLSv1.2', rejectUnauthorized: true };
  const extra = await extraTrust();
  return extra ? { ca: extra.ca, secureContext: extra.context, minVersion: 'TLSv1.2', rejectUnauthorized: true } : { minVersion: 'TLSv1.2', rejectUnauthorized: true };
}

/** Per file, once per process: see extraTrust. */
const extraTrusts = new Map<string, Promise<{ ca: string[]; context: SecureContext } | null>>();

/**
 * The certificates NODE_EXTRA_CA_CERTS adds to Node's default ones, for a `pli` started through
 * bin/pli.js: its shebang hands that variable's value over as PLI_EXTRA_CA_CERTS and clears it,
 * because Node 20 reads and parses every certificate it names at each start, before any code
 * runs (~90 ms on the benchmark's machine: bench/README.md), while only a mailbox connection uses
 * them. So the mailbox trusts what it would have trusted, added to Node's own authorities exactly
 * as Node adds them. Like Node, a file that cannot be read adds nothing (the connection then
 * fails on the server's certificate, with its own message). null: nothing to add.
 * Read once per process, as Node does, into one TLS context that every connection shares
 * (tls.connect takes `secureContext` over `ca`): built from `ca` at each connection, as Node
 * would otherwise do, it parses ~290 certificates, ~100 ms each time here.
 */
function extraTrust(): Promise<{ ca: string[]; context: SecureContext } | null> {
  const file = process.env.PLI_EXTRA_CA_CERTS;
  if (!file || process.env.NODE_EXTRA_CA_CERTS) return Promise.resolve(null); // Node loaded them itself
  let trust = extraTrusts.get(file);
  if (!trust) {
    trust = (async () => {
      const [{ rootCertificates, createSecureContext }, { readFile }] = await Promise.all([import('node:tls'), import('node:fs/promises')]);
      const pem = await readFile(file, 'utf8').catch(() => null);
      if (!pem?.includes('-----BEGIN CERTIFICATE-----')) return null;
      const ca = [...rootCertificates, pem];
      return { ca, context: createSecureContext({ ca, minVersion: 'TLSv1.2' }) };
    })();
    extraTrusts.set(file, trust);
  }
  return trust;
}

// One connection per message: nodemailer's pool (one connection for a whole flush) was tried for
// the receipts of a large receive (issue 13) and left a flush hanging after Dovecot restarted
// (test/mail/mailbox.test.ts, "reconnects after Dovecot restarts"); imap.ts sends on a few
// connections at once instead.
export async function smtpTransport(settings: MailboxSettings, password: string) {
  // The password goes only to the settings it was sealed with (docs/profile.md, "The mailbox row").
  requireVerifiedSettings(settings, password);
  const { default: nodemailer } = await import('nodemailer');
  const e = settings.smtp;
  return nodemailer.createTransport({
    host: e.host,
    port: e.port,
    secure: e.mode === 'tls',
    requireTLS: e.mode === 'starttls',
    auth: { user: settings.user, pass: password },
    tls: await tlsOptions(settings),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 120_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

/**
 * Starts loading the mail libraries now, without waiting: called before a passphrase's Argon2id,
 * which runs off the main thread, so that the two overlap instead of following each other.
 */
export function preloadMail(smtp: boolean): void {
  void import('imapflow').catch(() => undefined);
  if (smtp) void import('nodemailer').catch(() => undefined);
}

export async function imapClient(settings: MailboxSettings, password: string): Promise<ImapFlow> {
  requireVerifiedSettings(settings, password);
  const { ImapFlow } = await import('imapflow');
  const e = settings.imap;
  const client = new ImapFlow({
    host: e.host,
    port: e.port,
    secure: e.mode === 'tls',
    doSTARTTLS: e.mode === 'starttls' ? true : undefined,
    auth: { user: settings.user, pass: password },
    tls: await tlsOptions(settings),
    logger: false,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 5 * 60_000,
    disableAutoIdle: true,
  });
  // A dropped connection is also emitted as 'error': without a listener it would crash the process.
  client.on('error', () => undefined);
  return client;
}

// `response`: nodemailer's reply line, or imapflow's (a string once imapflow has worded it, but
// its parsed reply, an object, on some failed commands: the words are then in responseText).
type AnyError = Error & { code?: string; responseCode?: number; response?: unknown; responseText?: unknown; authenticationFailed?: boolean; tlsFailed?: boolean; serverResponseCode?: string };

const TEMPORARY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND',
  'NoConnection', 'DownloadIncomplete', 'ECONNECTION', 'EDNS', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'ClosedAfterConnectTLS', 'ClosedAfterConnectText', 'EConnectionClosed']);

/** A TLS handshake with something that does not speak TLS (a plaintext port given as implicit TLS). */
const isTlsProtocolError = (e: AnyError): boolean =>
  /ERR_SSL|EPROTO|wrong version number|packet length too long|unknown protocol|ssl3_get_record|tls_validate_record_header/i.test(`${e.code ?? ''} ${e.message ?? ''}`);

const isTlsTrustError = (e: AnyError): boolean =>
  /certificate|self[- ]signed|altname|CERT_|unable to verify|UNABLE_TO/i.test(`${e.code ?? ''} ${e.message ?? ''}`);

/** Whether the error is about the connection (retry later) rather than the message or the settings. */
/** Any rejection as an object to read (a library may reject with a string, null or undefined). */
const asError = (error: unknown): AnyError =>
  (error !== null && typeof error === 'object' ? error : { message: String(error) }) as AnyError;

export function isTemporary(error: unknown): boolean {
  const e = asError(error);
  if (e instanceof PliError) return e.kind === 'temporary';
  if (isTlsTrustError(e) || isTlsProtocolError(e) || e.tlsFailed || e.code === 'ETLS') return false;
  if (typeof e.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  if (e.authenticationFailed || e.code === 'EAUTH') return false;
  if (e.code && TEMPORARY_CODES.has(e.code)) return true;
  if (e.code === 'ESOCKET' || e.code === 'ECONNECTION') return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|closed|Connection not available|timeout/i.test(e.message ?? '');
}

/** A one-line, secret-free description of a server's answer (kept in the outbox row). */
export function serverAnswer(error: unknown): string {
  const e = error as AnyError | null;
  const words = [e?.response, e?.responseText, e?.message].find((t): t is string => typeof t === 'string' && t !== '') ?? String(error);
  return words.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Maps a connection/login error to the CLI contract: 3 unreachable, 2 TLS refused, 1 login refused. */
export function connectionError(error: unknown, which: 'IMAP' | 'SMTP', endpoint: Endpoint): PliError {
  const e = asError(error);
  if (e instanceof PliError) return e;
  const where = `${which} ${endpoint.host}:${endpoint.port}`;
  // The server's own words (outside text, often English) travel as the `server` param: a front end
  // shows them as an escaped detail, never as its message.
  const params = { protocol: which, host: endpoint.host, port: endpoint.port };
  const answer = { ...params, server: serverAnswer(e) };
  // Trust first: imapflow also sets tlsFailed when STARTTLS fails on an untrusted certificate.
  if (isTlsTrustError(e)) {
    return securityError('tls-untrusted', `Le certificat du serveur ${where} n'est pas reconnu (${serverAnswer(e)}) : connexion refusée. S'il s'agit d'une autorité de certification interne, ajoutez son certificat aux réglages de la boîte.`, answer);
  }
  if (e.tlsFailed || e.code === 'ETLS' || isTlsProtocolError(e) || (typeof e.responseCode === 'number' && e.responseCode === 530)) {
    return securityError('no-tls', `Le serveur ${where} ne propose pas de connexion chiffrée (TLS) : connexion refusée, le mot de passe n'a pas été envoyé. Vérifiez l'adresse et le port auprès de votre service informatique.`, params);
  }
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 500) {
    // e.g. 454 "Temporary authentication failure": the server's own back end is not ready
    return temporaryError('server-unavailable', `Le serveur ${where} est momentanément indisponible (${serverAnswer(e)}) : réessayez plus tard.`, e, answer);
  }
  if (e.authenticationFailed || e.code === 'EAUTH' || e.responseCode === 535) {
    return inputError('mail-auth', `Le serveur ${where} refuse l'identifiant ou le mot de passe de la boîte : corrigez-les dans les réglages de la boîte.`, params);
  }
  if (isTemporary(e)) {
    return temporaryError('server-unreachable', `Le serveur ${where} est injoignable pour le moment (${serverAnswer(e)}) : réessayez plus tard.`, e, answer);
  }
  return temporaryError('server-error', `Erreur du serveur ${where} : ${serverAnswer(e)}. Réessayez plus tard ; si elle persiste, signalez-la.`, e, answer);
}
