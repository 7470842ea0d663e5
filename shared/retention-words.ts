// The retention run's notice at the top of the inbox (docs/convention.md 8.1) in the reader's
// language: main sends what was done as data (electron/ipc/views.ts toRetentionView: the state,
// the counts, the conventions' titles, a failure as an error), never a sentence to show; the keys
// are `inbox.retention.*` of renderer/i18n. Pure: the renderer passes its i18n (Inbox.tsx), tests
// pass theirs. The titles are outside text: the caller shows the line through forScreen.
import { describeErrorWith, type Wording } from './errors.js';
import type { IpcError } from './ipc.js';

export interface RetentionView {
  day: string;
  state: 'done' | 'waiting' | 'failed';
  /** How many conventions were past their retention (waiting) or destroyed (done). */
  conventions: number;
  /** The titles of the conventions destroyed (done). */
  titles: string[];
  containers: number;
  files: number;
  /** Items left to destroy by hand (listed in the destruction record). */
  manual: number;
  /** Why it failed (failed). */
  error: IpcError | null;
  /** The core's French sentence: shown only when there is nothing else to word. */
  message: string;
}

export function retentionLine(wording: Wording, view: RetentionView): string {
  const { t } = wording;
  switch (view.state) {
    case 'waiting':
      return t('inbox.retention.waiting', { count: view.conventions });
    case 'failed':
      return view.error ? t('inbox.retention.failed', { reason: describeErrorWith(wording, view.error).message }) : view.message;
    case 'done': {
      const titles = view.titles.map((title) => t('inbox.retention.title', { title })).join(', ');
      const done = t('inbox.retention.done', { titles, containers: t('inbox.retention.containers', { count: view.containers }), files: t('inbox.retention.files', { count: view.files }) });
      return view.manual > 0 ? `${done} ${t('inbox.retention.manual', { count: view.manual })}` : done;
    }
    default:
      return view.message;
  }
}
