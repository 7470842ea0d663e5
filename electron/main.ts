// The Electron main process: a thin shell. It creates the window, the menu and the native
// dialogs, serves the built interface over app://pli with the Content-Security-Policy, and binds
// the IPC handler table (electron/ipc/handlers.ts, where all the logic lives) to ipcMain after
// checking that every message comes from the app's own page.
import { app, BrowserWindow, dialog, ipcMain, Menu, net, Notification, protocol, session, shell, utilityProcess, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHandlers } from './ipc/handlers.js';
import { resolveHome } from './core/profile/profile.js';
import { useReaderProcess } from './core/indicators/read.js';
import { CHANNEL_NAMES, CHOSEN_CHANNEL, MAIL_EVENT_CHANNEL, OFFERED_CHANNEL, PROGRESS_CHANNEL } from '../shared/channels.js';
import { CONTENT_SECURITY_POLICY } from '../shared/csp.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/electron (inside app.asar when packaged)
const RENDERER_DIR = path.resolve(here, '..', '..', 'dist-renderer');
const PRELOAD = path.join(here, 'preload.cjs');
const SCHEME = 'app';
const HOST = 'pli';
const START_URL = `${SCHEME}://${HOST}/index.html`;

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true } }]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) app.quit();

let window: BrowserWindow | null = null;
/** Shown notifications, kept until closed: one collected by the garbage collector loses its click. */
const notifications = new Set<Notification>();
/** How often main asks the table for due notifications (the decision is the core's: once a day per period). */
const NOTIFY_EVERY_MS = 15 * 60 * 1000;

const handlers = createHandlers({
  home: resolveHome(),
  emitProgress: (progress) => window?.webContents.send(PROGRESS_CHANNEL, progress),
  emitMailEvent: (event) => window?.webContents.send(MAIL_EVENT_CHANNEL, event),
  emitOffered: () => window?.webContents.send(OFFERED_CHANNEL),
  // A due period (issue 14 §6): shown as is; a click brings the window forward on the Calendrier.
  notify: ({ title, body }) => {
    if (!Notification.isSupported()) return;
    const shown = new Notification({ title, body });
    notifications.add(shown);
    shown.on('click', () => {
      if (window) {
        if (window.isMinimized()) window.restore();
        window.show();
        window.focus();
        window.webContents.send(MAIL_EVENT_CHANNEL, { type: 'calendar' });
      }
    });
    shown.on('close', () => notifications.delete(shown));
    shown.show();
  },
  shell: {
    async saveFile({ title, defaultName, filters }) {
      const options = { title, defaultPath: path.join(app.getPath('documents'), defaultName), filters };
      const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    async chooseFolder({ title }) {
      const options = { title, properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
      const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : result.filePaths[0] ?? null;
    },
    async openFile({ title, filters }) {
      const options = { title, filters, properties: ['openFile'] as 'openFile'[] };
      const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : result.filePaths[0] ?? null;
    },
    showInFolder: (target) => shell.showItemInFolder(target),
  },
});

/** Only the main frame of our own page may call main: no iframe, no other origin. */
function trustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false;
  try {
    const url = new URL(frame.url);
    return url.protocol === `${SCHEME}:` && url.host === HOST;
  } catch {
    return false;
  }
}

function serveRenderer(): void {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    const relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.normalize(path.join(RENDERER_DIR, relative));
    if (url.host !== HOST || !file.startsWith(RENDERER_DIR + path.sep)) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

function harden(): void {
  // No permission (camera, notifications, geolocation...) is ever needed by the page: the desktop
  // notifications of due periods are main's own (Electron's Notification), never the page's.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

function buildMenu(): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate([
    { label: 'Fichier', submenu: [{ role: 'quit', label: 'Quitter' }] },
    { label: 'Édition', submenu: [{ role: 'undo', label: 'Annuler' }, { role: 'redo', label: 'Rétablir' }, { type: 'separator' }, { role: 'cut', label: 'Couper' }, { role: 'copy', label: 'Copier' }, { role: 'paste', label: 'Coller' }, { role: 'selectAll', label: 'Tout sélectionner' }] },
    { label: 'Affichage', submenu: [{ role: 'resetZoom', label: 'Taille réelle' }, { role: 'zoomIn', label: 'Agrandir' }, { role: 'zoomOut', label: 'Réduire' }, { type: 'separator' }, { role: 'togglefullscreen', label: 'Plein écran' }] },
    { label: 'Aide', submenu: [{ label: 'À propos de Pli', click: () => void dialog.showMessageBox({ title: 'Pli', message: `Pli ${app.getVersion()}`, detail: 'Échange de fichiers confidentiels chiffrés entre partenaires de la sécurité publique.' }) }] },
  ]));
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1280, height: 800, minWidth: 1024, minHeight: 680, show: false, title: 'Pli',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click would otherwise open links in new windows (already denied, but never offered).
      disableBlinkFeatures: 'Auxclick',
      devTools: !app.isPackaged,
    },
  });
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => { window = null; });
  void window.loadURL(START_URL);
}

/**
 * The .pli paths among command-line arguments (a double-click in the file manager starts
 * `Pli <file>`; in development `electron . <file>`): handed to the IPC table, which checks each
 * one and keeps it; the interface gets a reference (electron/ipc/offered.ts).
 */
function offerFromArgs(argv: readonly string[], workingDirectory: string): void {
  for (const arg of argv.slice(1)) {
    if (arg.startsWith('-') || path.extname(arg).toLowerCase() !== '.pli') continue;
    handlers.offerFile(path.resolve(workingDirectory, arg));
  }
}

// macOS hands files over by event, possibly before the app is ready (the table keeps them).
app.on('open-file', (event, file) => {
  event.preventDefault();
  handlers.offerFile(file);
  window?.focus();
});

offerFromArgs(process.argv, process.cwd());

app.on('second-instance', (_event, argv, workingDirectory) => {
  offerFromArgs(argv, workingDirectory);
  if (window) {
    if (window.isMinimized()) window.restore();
    window.focus();
  }
});

app.whenReady().then(() => {
  harden();
  serveRenderer();
  // The states (spreadsheets from outside) are read in a utility process: a file that makes the
  // reader abort ends that process, never this one (read.ts, "Where the reader runs").
  useReaderProcess((modulePath, { execArgv, env }) => utilityProcess.fork(modulePath, [], { execArgv, env, stdio: 'ignore', serviceName: 'Pli : lecture des états' }));
  for (const channel of CHANNEL_NAMES) {
    ipcMain.handle(channel, async (event, payload: unknown) => {
      if (!trustedSender(event)) {
        return { ok: false, error: { kind: 'security', code: 'untrusted-sender', message: 'Demande refusée : elle ne vient pas de l’interface de Pli.' } };
      }
      return handlers.invoke(channel, payload);
    });
  }
  // The preload's pathForFile: a file the person picked or dropped (handlers.chooseFile). Answered
  // synchronously (sendSync), so main has the path before the request that names it.
  ipcMain.on(CHOSEN_CHANNEL, (event, candidate: unknown) => {
    event.returnValue = trustedSender(event) && handlers.chooseFile(candidate);
  });
  buildMenu();
  createWindow();
  // Each check shows only what the core says is due and not yet shown today (a sign-in checks too).
  setInterval(() => void handlers.checkNotifications(), NOTIFY_EVERY_MS).unref();
}).catch((error: unknown) => {
  console.error(error);
  app.exit(1);
});

app.on('window-all-closed', () => app.quit());
app.on('will-quit', () => handlers.close());
