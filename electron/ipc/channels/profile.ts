// The profile, the interface's settings (language, idle lock) and "show in folder".
import { inputError } from '../../core/errors.js';
import { getMeta, setMeta } from '../../core/profile/profile.js';
import { listIdentities } from '../../core/profile/identities.js';
import { changeSettings, getSettings as sessionSettings } from '../../core/services/session.js';
import { createProfile } from '../../core/services/workstation.js';
import { certificateState, getTrust, roleIncludes } from '../../core/authority/certificates.js';
import { directoryFreshness } from '../../core/authority/directory.js';
import { getAuthority } from '../../core/authority/authority.js';
import { getMailbox } from '../../core/mail/settings.js';
import { formatFingerprint } from '../../../shared/ids.js';
import type { ResponseOf, Settings } from '../../../shared/ipc.js';
import { certificateOf, voiceCheckView } from '../views.js';
import { AUTHORITY_SUBJECT } from '../../core/services/voice.js';
import type { Deps, Impl } from './deps.js';

export function profileChannels({ session: s, shell, revealable }: Deps) {
  const { home } = s;
  /** The language chosen before any profile exists (stored in the profile once there is one). */
  let memoryLanguage: Settings['language'] = 'fr';

  return {
    async 'profile:status'() {
      const exists = s.exists();
      const db = exists ? s.profile().db : null;
      const own = db ? listIdentities(db).filter((r) => r.own === 1) : [];
      const trust = db ? getTrust(db) : undefined;
      const isAuthority = db ? getAuthority(db) !== undefined : false;
      let authority: ResponseOf<'profile:status'>['authority'] = null;
      if (db && trust) {
        const fresh = directoryFreshness(db);
        authority = {
          name: trust.name, fingerprint: formatFingerprint(trust.fpr), serial: trust.serial,
          nextUpdate: fresh.nextUpdate ?? trust.next_update, refuseAfter: fresh.refuseAfter ?? trust.next_update,
          freshness: fresh.state === 'stale' || fresh.state === 'expired' ? fresh.state : 'fresh', isAuthority,
          voiceCheck: voiceCheckView(db, AUTHORITY_SUBJECT),
        };
      }
      const session = s.active();
      let officer = false;
      if (db && session && isAuthority) {
        const state = certificateState(db, session.id);
        officer = state.state === 'valid' && roleIncludes(state.role!, 'officer');
      }
      return {
        home, exists,
        ownIdentities: own.map((r) => ({ id: r.id, name: r.name, org: r.org, certificate: certificateOf(db!, r.id) })),
        session: session ? { id: session.id, name: session.name } : null,
        authority, officer, mailbox: db && getMailbox(db) ? 'configured' : 'none',
      };
    },

    async 'profile:init'() {
      const result = createProfile(home);
      s.adopt(result.profile);
      return { home, created: result.created };
    },

    async 'settings:get'() {
      const stored = s.exists() ? getMeta(s.profile().db, 'ui.language') : undefined;
      const language = stored === 'en' || stored === 'fr' ? stored : memoryLanguage;
      const idleLockMinutes = s.exists() ? sessionSettings(s.profile().db).idleLockMinutes : null;
      return { language, idleLockMinutes };
    },

    async 'settings:set'(request) {
      const stored = s.exists();
      if (request.idleLockMinutes !== undefined) {
        s.require();
        changeSettings(s.scope(), { idleLockMinutes: request.idleLockMinutes });
      }
      if (request.language !== undefined) {
        memoryLanguage = request.language;
        if (stored) setMeta(s.profile().db, 'ui.language', request.language);
      }
      const language = stored ? getMeta(s.profile().db, 'ui.language') : undefined;
      return {
        language: language === 'en' || language === 'fr' ? language : memoryLanguage,
        idleLockMinutes: stored ? sessionSettings(s.profile().db).idleLockMinutes : null,
      };
    },

    async 'shell:showInFolder'(request) {
      if (!revealable.has(request.path)) {
        throw inputError('not-revealable', 'Pli ne montre que les fichiers et dossiers qu’il vient d’ouvrir ou d’enregistrer.');
      }
      shell.showInFolder(request.path);
      return { shown: true };
    },
  } satisfies Partial<Impl>;
}
