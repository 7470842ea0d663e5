// Issue 15: the voice check of a fingerprint, and the .pli files handed to Pli from outside
// (offered.ts keeps their paths; the interface only ever holds a reference).
import { markVoiceChecked } from '../../core/services/voice.js';
import { containerOpener, summaryOf } from './containers.js';
import type { Deps, Impl } from './deps.js';

export function layoutChannels(deps: Deps) {
  const { session: s, offered } = deps;
  const openAt = containerOpener(deps);
  return {
    async 'directory:voiceCheck'(request) {
      s.require();
      const check = await markVoiceChecked(s.scope(), request.subject, request.fingerprint);
      return { at: check.checkedAt, byName: check.checkedByName };
    },

    async 'offered:list'() {
      return { files: offered.take() };
    },

    async 'offered:inspect'(request) {
      const summary = await summaryOf(s, offered.pathOf(request.ref));
      // The path stays here: the interface opens it again by its reference.
      return { ...summary, path: '' };
    },

    async 'offered:open'(request) {
      return openAt(offered.pathOf(request.ref), request);
    },
  } satisfies Partial<Impl>;
}
