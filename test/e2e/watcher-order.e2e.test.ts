// The inbox's « Réception en continu » line against REAL Postfix + Dovecot (test/mail/harness.ts),
// when the screen's list answer and the watcher's pushed news cross. The answer carries the
// watcher's state as it was when main listed the inbox; the news of a later state can reach the
// page first (the test bridge sends them on two connections; any answer that waits on the disk
// after its snapshot would do the same in Electron). The page must keep the newer state: here it
// once kept « Connexion à la boîte aux lettres… » while the watcher was watching (mail.e2e, stops
// 28 and 33).
//
// Ordered by hand, not by luck: the IMAP port goes through a gate held closed, so the watcher stays
// « starting » while main answers the list; the answer is held, the gate opened, the « watching »
// news delivered to the page, and only then is the answer released.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startBridge } from './bridge.js';
import { RENDERER, mailRun, shot, signInToInbox } from './support.js';
import type { MailServers } from '../mail/harness.js';
import { setMailbox } from '../../electron/core/mail/settings.js';

const PASS_TOWN = 'une mairie bien gardée vaut mieux';
const TOWN_HALL = 'Mairie de Vandœuvre-lès-Nancy';
// French typography: a narrow no-break space before the colon (\s matches it).
const WATCHING = /Réception en continu\s: les nouveaux plis apparaissent ici/;

const run = mailRun('watcher-order');
let servers: MailServers;
const { bridges, consoleErrors, openApp, station } = run;

/** A TCP port in front of `port` that holds every connection, unanswered, until open(). */
async function gate(host: string, port: number) {
  let opened = false;
  const waiting: net.Socket[] = [];
  const sockets = new Set<net.Socket>();
  const through = (client: net.Socket): void => {
    const server = net.connect(port, host);
    sockets.add(server);
    client.pipe(server).pipe(client);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  };
  const listener = net.createServer((client) => {
    sockets.add(client);
    if (opened) through(client);
    else waiting.push(client);
  });
  await new Promise<void>((resolve) => listener.listen(0, host, resolve));
  return {
    port: (listener.address() as AddressInfo).port,
    open(): void {
      opened = true;
      for (const client of waiting.splice(0)) through(client);
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      listener.close(() => resolve());
    }),
  };
}

beforeAll(async () => {
  ({ servers } = await run.start());
});

afterAll(() => run.close());

describe('the inbox keeps the watcher\'s newest state', () => {
  it('« watching » pushed while the list answer was on its way stays shown once the older answer lands', async () => {
    const town = await station('mairie', 'Claire Petit', servers.users.townhall.user, TOWN_HALL, PASS_TOWN);
    const imap = await gate(servers.host, servers.ports.imap);
    try {
      await setMailbox(town.ctx, {
        imap: { host: servers.host, port: imap.port, mode: 'starttls' }, smtp: { host: servers.host, port: servers.ports.submissions, mode: 'tls' },
        user: servers.users.townhall.user, caPem: servers.ca.toString('utf8'), maxMessageBytes: 25_000_000,
      }, servers.users.townhall.pass);
      town.profile.close();

      const bridge = await startBridge({ home: town.home, rendererDir: RENDERER });
      bridges.push(bridge);
      const page = await openApp(bridge);
      const held = bridge.holdNext('inbox:list');
      // The sign-in starts the watcher; the inbox it lands on lists itself at once.
      await signInToInbox(page, 'Claire Petit', PASS_TOWN);
      const answer = await held.answered as { ok: boolean; value: { watcher: { state: string } } };
      // The watcher's connection waits at the gate: the answer says « starting ».
      expect(answer.ok).toBe(true);
      expect(answer.value.watcher.state).toBe('starting');

      imap.open();
      await page.waitForFunction(() => ((globalThis as unknown as { __pliMailEvents?: { type: string; watcher?: { state: string } }[] }).__pliMailEvents ?? [])
        .some((event) => event.type === 'watcher' && event.watcher?.state === 'watching'), undefined, { timeout: 30_000 });
      held.release();

      // The line shows once the answer has landed (it says a mailbox is set): with the newer state.
      const line = page.locator('p.watch[role="status"]');
      await line.waitFor({ timeout: 30_000 });
      await shot(page, '53-inbox-watching-after-late-answer');
      expect(await line.innerText()).toMatch(WATCHING);
      // Still so a moment later: nothing else was on its way.
      await page.waitForTimeout(300);
      expect(await line.innerText()).toMatch(WATCHING);
      expect(consoleErrors).toEqual([]);
    } finally {
      await imap.close();
    }
  });
});
