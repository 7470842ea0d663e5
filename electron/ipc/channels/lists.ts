// The inbox's and the outbox's banners of late periods (issue 14 §6, issue 15): the periods past
// their due day with nothing received or sent here, computed by the core as the Calendrier does.
// Names, periods and days only: nothing secret, no path.
import { today } from '../../core/authority/convention.js';
import { latePeriods } from '../../core/mail/lists.js';
import type { Deps, Impl } from './deps.js';

export function listChannels({ session: s }: Deps) {
  return {
    async 'lists:late'(request) {
      const ctx = s.context(); // signed in: the conventions' trust seal and the filings are checked with the key in hand
      const at = request.at ?? today();
      return { at, ...(await latePeriods(ctx.profile.db, at)) };
    },
  } satisfies Partial<Impl>;
}
