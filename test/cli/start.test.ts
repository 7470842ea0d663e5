// Issue 13: Node 20 reads and parses every certificate NODE_EXTRA_CA_CERTS names at each start,
// before any code runs (~90 ms a command on the benchmark's machine). bin/pli.js's first line starts
// Node without it and hands its value over as PLI_EXTRA_CA_CERTS, which the mailbox's connections add
// to Node's own authorities (electron/core/mail/connect.ts; test/mail/mailbox.test.ts plays it
// against the real Dovecot and Postfix). Node says when it cannot load the variable's file: that
// warning shows whether Node got the variable.
import { describe, it, expect, afterAll, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from './support.js';
import { tlsOptions } from '../../electron/core/mail/connect.js';
import type { MailboxSettings } from '../../electron/core/mail/settings.js';

const temp = mkdtempSync(path.join(tmpdir(), 'pli-start-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const MISSING = path.join(temp, 'absent.pem');
const WARNING = /Ignoring extra certs from/;
const posix = process.platform !== 'win32';

const help = (command: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(command[0]!, [...command.slice(1), '--help'], { encoding: 'utf8', env: { ...process.env, ...env } });

describe.runIf(posix)('the pli command starts Node without NODE_EXTRA_CA_CERTS', () => {
  it('run as a command, Node never sees the variable; run as `node bin/pli.js`, it does', () => {
    const direct = help([BIN], { NODE_EXTRA_CA_CERTS: MISSING });
    expect(direct.status).toBe(0);
    expect(direct.stdout).toMatch(/^Usage : pli/);
    expect(direct.stderr).not.toMatch(WARNING);
    const throughNode = help([process.execPath, BIN], { NODE_EXTRA_CA_CERTS: MISSING });
    expect(throughNode.status).toBe(0);
    expect(throughNode.stderr).toMatch(WARNING);
  });

  it('PLI_NODE_EXTRA_CA_CERTS gives Node a variable of its own', () => {
    expect(help([BIN], { PLI_NODE_EXTRA_CA_CERTS: MISSING }).stderr).toMatch(WARNING);
  });

  it('npm ci leaves node_modules/.bin/pli, a link to bin/pli.js (scripts/link-bin.mjs)', () => {
    const link = path.resolve(path.dirname(BIN), '..', 'node_modules', '.bin', 'pli');
    expect(existsSync(link)).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(BIN));
    expect(help([link], { NODE_EXTRA_CA_CERTS: MISSING }).stderr).not.toMatch(WARNING);
  });
});

describe("the mailbox's TLS trust", () => {
  const settings = (caPem: string | null) => ({ caPem }) as MailboxSettings;
  const ca = path.join(temp, 'ca.pem');
  // any certificate will do: trust is decided by the TLS handshake, which test/mail plays
  writeFileSync(ca, rootCertificates[0]!);
  // The variables for one call only (vi.stubEnv; undefined: unset), put back after it.
  const withEnv = async <T>(env: Record<string, string | undefined>, f: () => Promise<T>): Promise<T> => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    try {
      return await f();
    } finally {
      vi.unstubAllEnvs();
    }
  };

  it('adds the handed-over certificates to Node\'s own authorities', async () => {
    const options = await withEnv({ PLI_EXTRA_CA_CERTS: ca, NODE_EXTRA_CA_CERTS: undefined }, () => tlsOptions(settings(null)));
    expect(options.ca).toEqual([...rootCertificates, rootCertificates[0]]);
    expect(options.rejectUnauthorized).toBe(true);
    // one TLS context built from them, shared by every connection of the process
    expect(options.secureContext).toBeDefined();
    const again = await withEnv({ PLI_EXTRA_CA_CERTS: ca, NODE_EXTRA_CA_CERTS: undefined }, () => tlsOptions(settings(null)));
    expect(again.secureContext).toBe(options.secureContext);
  });

  it('adds nothing when Node loaded them itself, when the file cannot be read or holds no certificate, or when there is nothing', async () => {
    expect((await withEnv({ PLI_EXTRA_CA_CERTS: ca, NODE_EXTRA_CA_CERTS: ca }, () => tlsOptions(settings(null)))).ca).toBeUndefined();
    expect((await withEnv({ PLI_EXTRA_CA_CERTS: MISSING, NODE_EXTRA_CA_CERTS: undefined }, () => tlsOptions(settings(null)))).ca).toBeUndefined();
    const text = path.join(temp, 'text.pem');
    writeFileSync(text, 'pas un certificat\n');
    expect((await withEnv({ PLI_EXTRA_CA_CERTS: text, NODE_EXTRA_CA_CERTS: undefined }, () => tlsOptions(settings(null)))).ca).toBeUndefined();
    expect((await withEnv({ PLI_EXTRA_CA_CERTS: '', NODE_EXTRA_CA_CERTS: undefined }, () => tlsOptions(settings(null)))).ca).toBeUndefined();
  });

  it('a CA in the mailbox\'s settings replaces them, as before', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n';
    expect((await withEnv({ PLI_EXTRA_CA_CERTS: ca, NODE_EXTRA_CA_CERTS: undefined }, () => tlsOptions(settings(pem)))).ca).toBe(pem);
  });
});
