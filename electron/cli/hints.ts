// The command line's hints: the core's messages say what happened and what to do in words (they
// reach the interface too); the CLI adds, by error code, the option or command that does it here.
import type { PliError, ErrorParams } from '../core/errors.js';

type Hint = string | ((params: ErrorParams) => string | null);

const home = (params: ErrorParams): string => (typeof params.home === 'string' ? params.home : 'DOSSIER');
/** A path in a command to copy: quoted when the shell would split it. */
const arg = (text: string): string => (/^[\w./@:+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

/** Error code → the CLI's hint. Codes absent here need none (nothing to type helps). */
export const CLI_HINTS: Readonly<Record<string, Hint>> = {
  'keys-not-certified': 'commande : pli id export',
  'empty-org': 'voir pli id list',
  'not-audit-anchor': 'ancre écrite par pli audit anchor',
  'password-alone': 'options --to et --password-file',
  'no-recipient': 'option --to',
  'choose-identity': 'option --as ID ; voir pli id list',
  'unknown-sender': 'commande : pli id import, ou pli directory import',
  'not-addressed': (p) => (p.protection === 'identity' ? 'option --as ID, sans --password-file' : null),
  'profile-symlink': 'option --home',
  'profile-owner': 'option --home',
  'profile-permissions': (p) => `commande : pli --home ${arg(home(p))} init`,
  'no-profile': (p) => `commande : pli --home ${arg(home(p))} init`,
  'not-a-folder': 'option --home',
  'foreign-folder': 'option --home',
  'profile-kind': (p) => (p.shared === true ? 'commande : pli --home DOSSIER init --shared' : `commande : pli --home ${arg(home(p))} init --shared`),
  'bad-card': 'commande : pli id export',
  'bad-id': 'voir pli id list',
  'unknown-id': (p) => (p.own === true ? 'voir pli id list' : 'commande : pli id import ; voir pli id list'),
  'ambiguous-id': 'voir pli id list',
  'no-own-identity': 'commande : pli id new',
  'sign-in-required': 'option --as ID et sa phrase de passe',
  'no-mailbox': 'commande : pli mailbox set ; ou option --folder DOSSIER',
  'no-profile-key': 'commande : pli mailbox set',
  'profile-key-locked': 'commande : pli mailbox set',
  'mailbox-tampered': 'commande : pli mailbox set, avec le mot de passe de la boîte',
  'mailbox-unsealed': 'commande : pli mailbox set, avec le mot de passe de la boîte',
  'too-big': 'option --folder DOSSIER',
  'no-destination': 'option --mail ADRESSE ou --folder DOSSIER',
  'unknown-inbox': 'voir pli inbox',
  'tls-untrusted': 'commande : pli mailbox set ... --ca FICHIER',
  'mail-auth': 'commande : pli mailbox set',
  'pin-required': 'option --pin EMPREINTE',
  'no-authority': 'commande : pli directory import FICHIER --pin EMPREINTE',
  'certificate-keys': 'commande : pli id export',
  'not-authority': 'commande : pli authority init',
  'already-authority': 'voir pli authority fingerprint',
  // pli convention new | terminate | show, pli due
  'bad-types': 'option --types',
  'bad-schedule': 'option --schedule',
  'bad-party': 'option --party ORGANISATION=ADRESSE',
  'unknown-party': 'option --party ; voir pli id list',
  'not-party-member': 'options --person et --party',
  'bad-person': 'option --person ID=FONCTION',
  'bad-expect': 'option --expect NOM',
  // The core says the allowed days in words; the format is the option's (the app's field has its own).
  'bad-date': (p) => (p.field === 'start' || p.field === 'date' || p.field === 'at' ? `option --${p.field} AAAA-MM-JJ` : null),
  'already-terminated': 'commande : pli convention new',
  'bad-convention-id': 'voir pli convention list',
  'unknown-convention': 'voir pli convention list ; ou pli directory import',
  'ambiguous-convention-id': 'voir pli convention list',
  // pli send --convention, pli retention run
  'bad-period': 'option --period (voir pli due) ; pour pli indicators, --from ou --to',
  'bad-document': 'option --doc NOM ; voir pli convention show',
  'bad-subject': 'option --subject',
  'type-not-allowed': 'voir pli convention show',
  'convention-ended': 'voir pli convention show',
  'convention-not-started': 'voir pli convention show',
  'not-in-convention': 'voir pli convention show',
  // pli indicators (docs/indicators.md)
  'commune-required': 'option --commune NOM ; pour le rapport, ou --agglomeration',
  'bad-commune': 'option --commune',
  'unknown-indicator': 'option --indicator',
  'bad-mapping': 'voir docs/indicators.md, section 3',
  'no-figures': 'voir pli indicators',
  'indicators-tampered': 'commande : pli audit verify',
  // A program built from the sources: the command that makes the missing file.
  'worker-missing': 'depuis les sources : npm run build',
  // Only the sealed container's output names its path (other 'exists' have no option to change).
  exists: (p) => (typeof p.path === 'string' ? 'option --out' : null),
};

/** The CLI's hint for an error, in parentheses, or '' when it has none. */
export function hintFor(error: Pick<PliError, 'code' | 'params'>): string {
  const hint = CLI_HINTS[error.code];
  const text = typeof hint === 'function' ? hint(error.params) : hint;
  return text ? ` (${text})` : '';
}

/** The `pli: ` line of a core error: its French message, then the CLI's hint. */
export function cliMessage(error: Pick<PliError, 'code' | 'params' | 'message'>): string {
  return `${error.message}${hintFor(error)}`;
}
