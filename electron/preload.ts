// The preload: the only bridge between the sandboxed interface and main. It exposes one domain
// verb per contract channel (never ipcRenderer itself), progress and mailbox events, and the path of a
// dropped or picked file (told to main first). Built to CommonJS (dist/electron/preload.cjs): sandboxed preloads
// cannot be ES modules. Validation happens in main (requests) and in the renderer (answers).
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { CHANNELS, CHOSEN_CHANNEL, MAIL_EVENT_CHANNEL, OFFERED_CHANNEL, PROGRESS_CHANNEL } from '../shared/channels.js';

type DroppedFile = Parameters<typeof webUtils.getPathForFile>[0];

const api: Record<string, unknown> = {};
for (const [channel, verb] of Object.entries(CHANNELS)) {
  api[verb] = (request: unknown) => ipcRenderer.invoke(channel, request);
}
api.onProgress = (listener: (progress: unknown) => void) => {
  const forward = (_event: unknown, progress: unknown) => listener(progress);
  ipcRenderer.on(PROGRESS_CHANNEL, forward);
  return () => void ipcRenderer.removeListener(PROGRESS_CHANNEL, forward);
};
api.onMailEvent = (listener: (event: unknown) => void) => {
  const forward = (_event: unknown, event: unknown) => listener(event);
  ipcRenderer.on(MAIL_EVENT_CHANNEL, forward);
  return () => void ipcRenderer.removeListener(MAIL_EVENT_CHANNEL, forward);
};
// A .pli handed to Pli from outside: no payload, the interface asks offered:list (a reference).
api.onOfferedFile = (listener: () => void) => {
  const forward = () => listener();
  ipcRenderer.on(OFFERED_CHANNEL, forward);
  return () => void ipcRenderer.removeListener(OFFERED_CHANNEL, forward);
};
// The path of a File the person picked or dropped, told to main before the interface gets it: main
// then lets the interface name that path, and no other (electron/ipc/chosen.ts). A File the page
// made itself has no path here (''), so a script in the page cannot make main accept one.
// Synchronous, so that main has it before any request naming it.
api.pathForFile = (file: unknown) => {
  const chosen = webUtils.getPathForFile(file as DroppedFile);
  if (!chosen) return '';
  return ipcRenderer.sendSync(CHOSEN_CHANNEL, chosen) === true ? chosen : '';
};

contextBridge.exposeInMainWorld('pli', Object.freeze(api));
