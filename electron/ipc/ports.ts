// What the IPC table is given and what it gives back. No Electron import: main binds the table to
// ipcMain, and the end-to-end tests bind the very same table to a loopback HTTP bridge. Native
// dialogs and "show in folder" come in through the ShellPort.
import type { Channel, Envelope, MailEvent, Progress } from '../../shared/ipc.js';

export interface ShellPort {
  /** A native "save as" dialog; null when the person cancels. */
  saveFile(options: { title: string; defaultName: string; filters: { name: string; extensions: string[] }[] }): Promise<string | null>;
  /** A native folder chooser; null when the person cancels. */
  chooseFolder(options: { title: string }): Promise<string | null>;
  /** A native "open file" dialog; null when the person cancels. */
  openFile(options: { title: string; filters: { name: string; extensions: string[] }[] }): Promise<string | null>;
  showInFolder(target: string): void;
}

export interface HandlerOptions {
  home: string;
  shell: ShellPort;
  emitProgress(progress: Progress): void;
  /** Mailbox events for the renderer (new arrival, outbox change, watcher state). */
  emitMailEvent(event: MailEvent): void;
  /** A .pli was handed to Pli from outside (HandlerTable.offerFile): the interface asks offered:list. */
  emitOffered?(): void;
  /** Shows a desktop notification of a due period (main: Electron's Notification; its click opens
   * the Calendrier). Absent: none are shown. */
  notify?(notification: DesktopNotification): void;
}

/** A due period to notify (electron/core/services/notifications.ts), its words in French. */
export interface DesktopNotification { title: string; body: string; convention: string; period: string; kind: 'soon' | 'today' | 'late' }

export interface HandlerTable {
  /** Parses `payload` against the channel's schema, runs the handler, never throws. */
  invoke(channel: string, payload: unknown): Promise<Envelope<Channel>>;
  /** A .pli handed to Pli from outside (command line at start, second instance, macOS open-file,
   * "open with"): kept here under a reference, never given to the
   * interface. Returns the reference, or null when the path is no readable .pli file. */
  offerFile(path: string): string | null;
  /** The path of a file the person picked or dropped in the interface (the preload's, from
   * webUtils.getPathForFile): the interface may then name it as an input (chosen.ts). False, and
   * nothing recorded, for anything but an absolute path. */
  chooseFile(path: unknown): boolean;
  /** Shows (through HandlerOptions.notify) the signed-in person's notifications due at `now`, not
   * shown yet that day; resolves to how many. Main calls it on a timer; a sign-in calls it too. */
  checkNotifications(now?: number): Promise<number>;
  /** Signs out (wiping the keys) and closes the profile. */
  close(): void;
}
