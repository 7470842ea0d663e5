// The IPC channel names and the verb each one is exposed as on `window.pli`. Kept apart from
// the schemas (shared/ipc.ts) so that the sandboxed preload bundles this tiny table and no zod.

export const CHANNELS = {
  'profile:status': 'profileStatus',
  'profile:init': 'initProfile',
  'identities:list': 'listIdentities',
  'identities:create': 'createIdentity',
  'identities:importCard': 'importCard',
  'identities:exportCard': 'exportCard',
  'identities:importKeyfile': 'importKeyfile',
  'identities:installCertificate': 'installCertificate',
  'directory:import': 'importDirectory',
  'directory:people': 'listHabilitated',
  'session:signIn': 'signIn',
  'session:signOut': 'signOut',
  'containers:inspect': 'inspectContainer',
  'containers:encrypt': 'encryptFiles',
  'containers:generatePassword': 'generatePassword',
  'containers:open': 'openContainer',
  'events:list': 'listEvents',
  'audit:verify': 'verifyAudit',
  'audit:export': 'exportAudit',
  'audit:anchor': 'anchorAudit',
  'authority:init': 'initAuthority',
  'authority:certify': 'certifyCard',
  'authority:provision': 'provisionPerson',
  'authority:revoke': 'revokePerson',
  'authority:exportDirectory': 'exportDirectory',
  'settings:get': 'getSettings',
  'settings:set': 'setSettings',
  'shell:showInFolder': 'showInFolder',
  'mailbox:get': 'getMailbox',
  'mailbox:chooseCa': 'chooseMailboxCa',
  'mailbox:set': 'setMailbox',
  'mailbox:test': 'testMailbox',
  'outbox:send': 'sendContainer',
  'outbox:list': 'listOutbox',
  'outbox:flush': 'flushOutbox',
  'inbox:list': 'listInbox',
  'inbox:receive': 'receiveMail',
  'inbox:importFolder': 'importFolder',
  'inbox:open': 'openInboxItem',
  // issue 15 (h2-layout)
  'directory:voiceCheck': 'voiceCheck',
  'offered:list': 'listOfferedFiles',
  'offered:inspect': 'inspectOfferedFile',
  'offered:open': 'openOfferedFile',
  // Indicators (docs/indicators.md)
  'indicators:list': 'listIndicators',
  'indicators:import': 'importIndicatorState',
  'indicators:report': 'reportIndicators',
  'indicators:export': 'exportIndicators',
  'indicators:correct': 'correctIndicator',
  'indicators:labels': 'indicatorLabels',
  'indicators:preview': 'previewIndicatorMapping',
  'indicators:mapping': 'saveIndicatorMapping',
  'indicators:reread': 'rereadIndicatorState',
  // Conventions (issue 14 §6): the Calendrier and Convention screens.
  'conventions:list': 'listConventions',
  'conventions:calendar': 'conventionCalendar',
  'conventions:annex': 'printAnnex',
  'conventions:register': 'exportRegister',
  'conventions:terminate': 'terminateConvention',
  'containers:conventionChoices': 'conventionChoices',
  // c2-lists: the late periods of the inbox's and the outbox's banners.
  'lists:late': 'latePeriods',
  // d1-officer (issues 15, 17): the officer console's publication, the officer's contact.
  'authority:console': 'officerConsole',
  'authority:publish': 'publishDirectory',
  'authority:setContact': 'setOfficerContact',
  'directory:contact': 'officerContact',
  // k1-convedit (issue 14 §6): the officer creates and edits a convention.
  'conventions:create': 'createConvention',
  'conventions:edit': 'editConvention',
} as const;

export type Channel = keyof typeof CHANNELS;
export type Verb = (typeof CHANNELS)[Channel];

/** Main → renderer: progress of long operations. */
export const PROGRESS_CHANNEL = 'pli:progress';
/** Main → renderer: something changed in the mailbox (new arrival, outbox row, watcher state). */
export const MAIL_EVENT_CHANNEL = 'pli:mail';

/** Main → renderer: a .pli was handed to Pli from outside (no payload: ask offered:list). */
export const OFFERED_CHANNEL = 'pli:offered';

/** Preload → main, synchronous: the path of a file the person picked or dropped. Sent only by the
 * preload's pathForFile, never by a contract verb (electron/ipc/chosen.ts). */
export const CHOSEN_CHANNEL = 'pli:chosen';

export const CHANNEL_NAMES = Object.keys(CHANNELS) as Channel[];

export function isChannel(name: string): name is Channel {
  return Object.prototype.hasOwnProperty.call(CHANNELS, name);
}
