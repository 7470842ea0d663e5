// TEST-ONLY bridge (never shipped): binds the real IPC handler table (electron/ipc/handlers.ts)
// to loopback HTTP so that the built renderer can be driven in Debian's Chromium. It serves
// dist-renderer/ with the app's CSP from the same origin, so connect-src 'self' covers the API.
// Requests need the random token; native dialogs are answered from a queue the test fills.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHandlers, type DesktopNotification, type HandlerTable } from '../../electron/ipc/handlers.js';
import { CHANNELS, CHOSEN_CHANNEL } from '../../shared/channels.js';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import type { MailEvent, Progress } from '../../shared/ipc.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json',
};

export interface Bridge {
  url: string;
  token: string;
  handlers: HandlerTable;
  /** The next answers of native dialogs (save / open file / choose folder), in order; null means "cancelled". */
  dialogAnswers: (string | null)[];
  /** Paths passed to "show in folder". */
  shown: string[];
  /** Every progress event sent to the page. */
  progress: Progress[];
  /** Every mailbox event sent to the page. */
  mailEvents: MailEvent[];
  /** Every desktop notification main would have shown (HandlerOptions.notify), in order. */
  notifications: DesktopNotification[];
  /** As a click on a shown notification in main: the page is told to open the Calendrier. */
  clickNotification(): void;
  /** Keeps the next answer on `channel` from the page until release(). The answer travels on its
   * own request, the events on the event stream: a test orders them as a slow answer would. */
  holdNext(channel: string): HeldAnswer;
  close(): Promise<void>;
}

export interface HeldAnswer {
  /** What the handler answered, once it has run (the page has not got it yet). */
  answered: Promise<unknown>;
  release(): void;
}

export async function startBridge(options: { home: string; rendererDir: string }): Promise<Bridge> {
  const token = randomBytes(24).toString('hex');
  const listeners = new Set<ServerResponse>();
  const dialogAnswers: (string | null)[] = [];
  const shown: string[] = [];
  const progressLog: Progress[] = [];
  const mailLog: MailEvent[] = [];
  const notificationLog: DesktopNotification[] = [];
  const nextAnswer = async () => (dialogAnswers.length > 0 ? dialogAnswers.shift()! : null);
  const handlers = createHandlers({
    home: options.home,
    shell: { saveFile: nextAnswer, chooseFolder: nextAnswer, openFile: nextAnswer, showInFolder: (p) => void shown.push(p) },
    emitProgress: (progress: Progress) => {
      progressLog.push(progress);
      for (const res of listeners) res.write(`data: ${JSON.stringify(progress)}\n\n`);
    },
    emitMailEvent: (event: MailEvent) => {
      mailLog.push(event);
      for (const res of listeners) res.write(`event: mail\ndata: ${JSON.stringify(event)}\n\n`);
    },
    // As main's OFFERED_CHANNEL (a .pli handed to Pli from outside): the test calls handlers.offerFile.
    emitOffered: () => {
      for (const res of listeners) res.write('event: offered\ndata: {}\n\n');
    },
    // As main: recorded instead of shown (Electron's Notification).
    notify: (notification: DesktopNotification) => void notificationLog.push(notification),
  });
  let origin = '';
  const holds = new Map<string, { answered: (answer: unknown) => void; released: Promise<void> }>();
  const releases = new Set<() => void>();

  const tokenOk = (given: string | null | undefined) => {
    const a = Buffer.from(given ?? '');
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const body = (req: IncomingMessage) => new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size > 1 << 20) req.destroy(); else chunks.push(c); });
    req.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')); } catch (e) { reject(e); } });
    req.on('error', reject);
  });

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (url.pathname.startsWith('/ipc/') && req.method === 'POST') {
        // Same checks as main's sender-frame check: our page (origin) and our token.
        if (req.headers.origin !== origin || !tokenOk(req.headers['x-pli-token'] as string | undefined)) {
          res.writeHead(403).end();
          return;
        }
        const channel = decodeURIComponent(url.pathname.slice(5));
        // As main's CHOSEN_CHANNEL: the preload's pathForFile tells main the path of a chosen file.
        if (channel === CHOSEN_CHANNEL) {
          const { path: candidate } = (await body(req)) as { path?: unknown };
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(handlers.chooseFile(candidate)));
          return;
        }
        const answer = await handlers.invoke(channel, await body(req));
        const hold = holds.get(channel);
        if (hold) {
          holds.delete(channel);
          hold.answered(answer);
          await hold.released;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      if (url.pathname === '/events') {
        if (!tokenOk(url.searchParams.get('token'))) {
          res.writeHead(403).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
        res.write(': connected\n\n');
        listeners.add(res);
        req.on('close', () => listeners.delete(res));
        return;
      }
      const relative = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname);
      const file = path.normalize(path.join(options.rendererDir, relative));
      if (req.method !== 'GET' || !file.startsWith(options.rendererDir + path.sep)) {
        res.writeHead(404).end();
        return;
      }
      try {
        const data = await readFile(file);
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(data);
      } catch {
        res.writeHead(404).end();
      }
    })().catch(() => { if (!res.headersSent) res.writeHead(500); res.end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/`, token, handlers, dialogAnswers, shown, progress: progressLog, mailEvents: mailLog,
    notifications: notificationLog,
    clickNotification() {
      // What main sends on a click (MAIL_EVENT_CHANNEL { type: 'calendar' }).
      const event: MailEvent = { type: 'calendar' };
      mailLog.push(event);
      for (const res of listeners) res.write(`event: mail\ndata: ${JSON.stringify(event)}\n\n`);
    },
    holdNext(channel: string): HeldAnswer {
      let release = () => undefined as void;
      let answered: (answer: unknown) => void = () => undefined;
      const held = { answered: new Promise<unknown>((resolve) => { answered = resolve; }), release: () => release() };
      holds.set(channel, { answered, released: new Promise<void>((resolve) => { release = resolve; }) });
      releases.add(held.release);
      return held;
    },
    async close() {
      // A held answer still waiting would keep its request, and the server, open.
      for (const [, hold] of holds) hold.answered(undefined);
      for (const release of releases) release();
      for (const res of listeners) res.end();
      handlers.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Injected before the app (Playwright addInitScript): defines the same window.pli as the preload,
 * forwarding to the bridge. Runs in the browser: no imports, everything comes in `config`. */
export function bridgeClient(config: { token: string; channels: Record<string, string>; chosenChannel: string }): void {
  type Source = { onmessage: ((e: { data: string }) => void) | null; addEventListener(type: string, listener: (e: { data: string }) => void): void };
  const g = globalThis as unknown as Record<string, unknown> & { EventSource: new (url: string) => Source };
  const listeners = new Set<(p: unknown) => void>();
  const mailListeners = new Set<(e: unknown) => void>();
  const source = new g.EventSource(`/events?token=${config.token}`);
  source.onmessage = (event) => { for (const listener of listeners) listener(JSON.parse(event.data)); };
  // Each mailbox event is also kept in __pliMailEvents once handed to the page's listeners: a test
  // can wait until the page has it.
  const delivered: unknown[] = [];
  g.__pliMailEvents = delivered;
  source.addEventListener('mail', (event) => {
    const parsed: unknown = JSON.parse(event.data);
    for (const listener of mailListeners) listener(parsed);
    delivered.push(parsed);
  });
  const api: Record<string, unknown> = {};
  for (const [channel, verb] of Object.entries(config.channels)) {
    api[verb] = async (request: unknown) => {
      const response = await fetch(`/ipc/${encodeURIComponent(channel)}`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-pli-token': config.token }, body: JSON.stringify(request ?? {}),
      });
      return response.json();
    };
  }
  api.onProgress = (listener: (p: unknown) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  api.onMailEvent = (listener: (e: unknown) => void) => {
    mailListeners.add(listener);
    return () => void mailListeners.delete(listener);
  };
  const offeredListeners = new Set<() => void>();
  source.addEventListener('offered', () => { for (const listener of offeredListeners) listener(); });
  api.onOfferedFile = (listener: () => void) => {
    offeredListeners.add(listener);
    return () => void offeredListeners.delete(listener);
  };
  // Stands in for webUtils.getPathForFile: the test registers the real path of each file it sets.
  // Then, as the preload, tells main (synchronously: a blocking request) before the page gets it.
  // Weaker than Electron's on purpose: a script in the page could register a path here too; that a
  // File the page makes has no path is Electron's, checked by electron.e2e.test.ts.
  api.pathForFile = (file: { name: string }) => {
    const chosen = (g.__pliTestPaths as Record<string, string> | undefined)?.[file.name] ?? '';
    if (!chosen) return '';
    const request = new (g.XMLHttpRequest as new () => { open(m: string, u: string, async: boolean): void; setRequestHeader(n: string, v: string): void; send(b: string): void; status: number; responseText: string })();
    request.open('POST', `/ipc/${encodeURIComponent(config.chosenChannel)}`, false);
    request.setRequestHeader('content-type', 'application/json');
    request.setRequestHeader('x-pli-token', config.token);
    request.send(JSON.stringify({ path: chosen }));
    return request.status === 200 && request.responseText === 'true' ? chosen : '';
  };
  Object.defineProperty(g, 'pli', { value: Object.freeze(api), writable: false, configurable: false });
}

export const clientConfig = (bridge: Bridge) => ({ token: bridge.token, channels: { ...CHANNELS }, chosenChannel: CHOSEN_CHANNEL });
