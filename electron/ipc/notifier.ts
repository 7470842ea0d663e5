// Desktop notifications of due periods (issue 14 §6): the table decides, main shows. After a
// sign-in and on main's timer, the signed-in person's notifications due now are taken from the
// core (services/notifications.ts: once a day per period, remembered in the profile) and handed to
// HandlerOptions.notify: Electron's Notification in main, a recording in the test bridge.
import { takeNotifications } from '../core/services/notifications.js';
import type { HandlerOptions } from './ports.js';
import type { Session } from './session.js';

export function createNotifier(session: Session, notify: HandlerOptions['notify']) {
  // One check at a time: two overlapping checks would both find the same notification not shown.
  let queue: Promise<number> = Promise.resolve(0);
  const run = async (now: number): Promise<number> => {
    const active = session.active();
    const opened = session.opened();
    if (!notify || !active || !opened) return 0;
    try {
      const shown = await takeNotifications(opened.db, active.id, now);
      for (const n of shown) notify({ title: n.title, body: n.body, convention: n.convention, period: n.period, kind: n.kind });
      return shown.length;
    } catch {
      // A reminder never fails the app: the Calendrier shows the states, and any refusal, in words.
      return 0;
    }
  };
  return (now = Date.now()): Promise<number> => {
    queue = queue.then(() => run(now), () => run(now));
    return queue;
  };
}
