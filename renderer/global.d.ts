import type { PliApi } from '../shared/ipc';

declare global {
  interface Window {
    /** Defined by the preload (Electron) or, in end-to-end tests only, by the bridge client. */
    readonly pli: PliApi;
  }
}
