// Real Postfix + Dovecot on loopback for integration tests (no mocks). Wraps test/mail/harness.sh:
// every instance lives in its own temp ROOT with its own throwaway CA, on free ports, so several
// test files can run their own servers in parallel. Needs root and scripts/install-test-deps.sh.
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type MailUserName = 'police' | 'townhall' | 'archive' | 'prefecture';

export interface MailUser {
  /** login = full address, e.g. police@harness.test */
  user: string;
  pass: string;
}

export interface MailPorts {
  /** IMAP, STARTTLS required (plaintext LOGIN refused) */
  imap: number;
  /** IMAP, implicit TLS */
  imaps: number;
  /** SMTP submission, STARTTLS required, AUTH */
  submission: number;
  /** SMTP submission, implicit TLS, AUTH */
  submissions: number;
  /** Dovecot LMTP over TCP (direct delivery, bypassing Postfix) */
  lmtp: number;
  /** Plaintext-only SMTP submission on `host`: no STARTTLS offered, AUTH accepted in clear */
  plainSmtp: number;
  /** Plaintext-only IMAP on `plainImapHost`: no STARTTLS in CAPABILITY, LOGIN accepted in clear */
  plainImap: number;
}

export interface StartMailServersOptions {
  /** Pin some ports; the others are picked free on loopback. */
  ports?: Partial<MailPorts>;
}

export interface MailServers {
  /** Temp directory holding config, state, mailboxes and logs (log/dovecot.log, log/postfix.log). */
  root: string;
  /** PEM of the throwaway CA that signed the servers' certificate (SAN localhost, 127.0.0.1). */
  ca: Buffer;
  caPath: string;
  /** '127.0.0.1': every port except plainImap. */
  host: string;
  /** '127.0.0.2': Dovecot's settings for the plaintext-only IMAP endpoint are keyed on this local IP. */
  plainImapHost: string;
  ports: MailPorts;
  /** All @harness.test, password `<name>-secret`. */
  users: Record<MailUserName, MailUser>;
  /** SIGTERM Dovecot's process group (open IMAP sessions die too) and wait until it is gone. */
  stopDovecot(): Promise<void>;
  /** Start Dovecot again and wait until its ports answer. */
  startDovecot(): Promise<void>;
  stopPostfix(): Promise<void>;
  startPostfix(): Promise<void>;
  /** Make Postfix retry deferred mail now (e.g. mail queued while Dovecot was down). */
  flushQueue(): Promise<void>;
  /** How many messages Postfix still holds in its queues: 0 once everything accepted was delivered. */
  queued(): Promise<number>;
  /** Stop both daemons and delete root. Safe to call twice. */
  stop(): Promise<void>;
}

const HARNESS_SH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'harness.sh');
const INSTALL_HINT = 'run `sudo bash scripts/install-test-deps.sh`';
const TIMEOUT_MS = 60_000;
const PLAIN_IMAP_HOST = '127.0.0.2';

function findBinary(name: string): string | undefined {
  // postfix/dovecot live in /usr/sbin, which is not always on a test runner's PATH
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here, try the next directory
    }
  }
  return undefined;
}

/**
 * The first port the kernel hands out to outgoing connections (ip_local_port_range). The daemons'
 * ports are taken below it: a port picked by listen(0) lies in that range, and a client's socket
 * (another test file's, or a pli of the same test while Dovecot is stopped and restarted) could
 * take it as its local port before the daemon binds it again — "Address already in use", a
 * failure that only came with load and parallel files.
 */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A port nobody listens on right now, below the ephemeral range (closed again before the daemons bind it). */
async function freePort(host: string): Promise<number> {
  const high = ephemeralLow();
  for (;;) {
    const port = 10_000 + randomInt(high - 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, host, () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function pickPorts(pinned: Partial<MailPorts> = {}): Promise<MailPorts> {
  const taken = new Set(Object.values(pinned));
  const pick = async (key: keyof MailPorts, host = '127.0.0.1'): Promise<number> => {
    const fixed = pinned[key];
    if (fixed !== undefined) return fixed;
    // sequential picks can return a port handed out a moment ago: retry until distinct
    for (;;) {
      const p = await freePort(host);
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  return {
    imap: await pick('imap'),
    imaps: await pick('imaps'),
    submission: await pick('submission'),
    submissions: await pick('submissions'),
    lmtp: await pick('lmtp'),
    plainSmtp: await pick('plainSmtp'),
    plainImap: await pick('plainImap', PLAIN_IMAP_HOST),
  };
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(none)';
  }
}

/** Runs one harness.sh subcommand; on failure the error carries its output and the daemons' log tails. */
function runHarness(root: string, ports: MailPorts, subcommand: string): Promise<void> {
  return harnessOutput(root, ports, subcommand).then(() => undefined);
}

/** Runs one subcommand of harness.sh; resolves with what it printed. */
function harnessOutput(root: string, ports: MailPorts, subcommand: string): Promise<string> {
  const env = {
    ...process.env,
    ROOT: root,
    MAIL_IMAP_PORT: String(ports.imap),
    MAIL_IMAPS_PORT: String(ports.imaps),
    MAIL_SUBMISSION_PORT: String(ports.submission),
    MAIL_SUBMISSIONS_PORT: String(ports.submissions),
    MAIL_LMTP_PORT: String(ports.lmtp),
    MAIL_PLAIN_SMTP_PORT: String(ports.plainSmtp),
    MAIL_PLAIN_IMAP_HOST: PLAIN_IMAP_HOST,
    MAIL_PLAIN_IMAP_PORT: String(ports.plainImap),
  };
  // Async (not execFileSync): a test that stops a server mid-transfer needs its event loop running.
  // The daemons' stdio is redirected inside harness.sh, so the callback fires when the script exits.
  return new Promise((resolve, reject) => {
    execFile('bash', [HARNESS_SH, subcommand], { env, timeout: TIMEOUT_MS, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      reject(
        new Error(
          `mail harness "${subcommand}" failed (ROOT=${root}): ${err.message}\n` +
            `--- stdout\n${stdout}\n--- stderr\n${stderr}\n` +
            `--- log/dovecot.log\n${tail(path.join(root, 'log/dovecot.log'))}\n` +
            `--- log/dovecot.stderr\n${tail(path.join(root, 'log/dovecot.stderr'))}\n` +
            `--- log/postfix.log\n${tail(path.join(root, 'log/postfix.log'))}`,
          { cause: err },
        ),
      );
    });
  });
}

export async function startMailServers(opts: StartMailServersOptions = {}): Promise<MailServers> {
  // Two files may still pick the same free port at the same moment (checked free, bound by the
  // daemons a moment later): the one that loses starts again on other ports. Only the servers'
  // start is tried again, never a test's verdict.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || opts.ports || !/Address already in use/.test(String((err as Error).message))) throw err;
    }
  }
}

async function startOnce(opts: StartMailServersOptions): Promise<MailServers> {
  const missing = ['postfix', 'dovecot', 'doveadm'].filter((b) => !findBinary(b));
  if (missing.length > 0) {
    throw new Error(`mail test servers unavailable: ${missing.join(', ')} not found; ${INSTALL_HINT}`);
  }
  if (process.getuid?.() !== 0) {
    // Dovecot switches to the mail uid and Postfix to its own user: both need root.
    throw new Error('mail test servers need root (Postfix and Dovecot switch users)');
  }

  const ports = await pickPorts(opts.ports);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pli-mail-'));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await runHarness(root, ports, 'stop');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  };

  try {
    await runHarness(root, ports, 'setup');
    await runHarness(root, ports, 'start');
  } catch (err) {
    // leave nothing running or on disk; the original error explains why
    await stop().catch(() => undefined);
    throw err;
  }

  const caPath = path.join(root, 'pki', 'ca.crt');
  const user = (name: MailUserName): MailUser => ({ user: `${name}@harness.test`, pass: `${name}-secret` });
  return {
    root,
    ca: fs.readFileSync(caPath),
    caPath,
    host: '127.0.0.1',
    plainImapHost: PLAIN_IMAP_HOST,
    ports,
    users: { police: user('police'), townhall: user('townhall'), archive: user('archive'), prefecture: user('prefecture') },
    stopDovecot: () => runHarness(root, ports, 'stop-dovecot'),
    startDovecot: () => runHarness(root, ports, 'start-dovecot'),
    stopPostfix: () => runHarness(root, ports, 'stop-postfix'),
    startPostfix: () => runHarness(root, ports, 'start-postfix'),
    flushQueue: () => runHarness(root, ports, 'flush'),
    queued: async () => Number((await harnessOutput(root, ports, 'queued')).trim()),
    stop,
  };
}
