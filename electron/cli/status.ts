// The command line's French lines for the watch mode's typed news (core/mail/imap.ts MailStatus):
// the core reports values, the CLI words them (the interface does the same through i18n).
import { PliError } from '../core/errors.js';
import { MAX_PLI_PARTS, type MailStatus } from '../core/mail/imap.js';
import type { DirectoryWarning } from '../core/authority/directory.js';
import type { DB } from '../core/profile/profile.js';
import { getIdentity } from '../core/profile/identities.js';
import { JUNK_KEEP_MAX_BYTES, JUNK_RETENTION_MS, type InboxRow } from '../core/mail/inbox.js';
import { cliMessage } from './hints.js';
import { plural } from '../../shared/french.js';

const said = (error: Error): string => (error instanceof PliError ? cliMessage(error) : error.message);

/** One line for stderr (escape it with forTerminal: destinations and server replies are outside text). */
export function statusLine(status: MailStatus): string {
  switch (status.kind) {
    case 'sent':
      return `Envoyé : ${status.id} vers ${status.to}`;
    case 'failed':
      return `Échec d'envoi : ${status.id} vers ${status.to} : ${status.server ?? 'refusé par le serveur'}`;
    case 'impossible':
      return `Envoi impossible : ${said(status.error)}`;
    case 'attachment-refused':
      return `Pièce jointe ${status.name} refusée : taille hors limites (message déplacé dans Pli/Refusés).`;
    case 'message-refused':
      return status.reason === 'too-many-parts'
        ? `Message uid ${status.uid} refusé : ${status.parts} pièces jointes de pli, plus que les ${MAX_PLI_PARTS} admises par message ; aucune n'a été relevée (message déplacé dans Pli/Refusés).`
        : `Message uid ${status.uid} refusé : le serveur IMAP n'a pas donné ses pièces jointes de pli (${status.server ?? 'refus du serveur'}) ; message déplacé dans Pli/Refusés.`;
    case 'receive-busy':
      return said(status.error);
    case 'reconnecting':
      return status.error
        ? `Connexion perdue (${said(status.error)}) ; nouvelle tentative dans ${status.retryInSeconds} s.`
        : `Connexion perdue avec le serveur IMAP ; nouvelle tentative dans ${status.retryInSeconds} s.`;
  }
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The line every command ends with past the directory's next update (docs/authority.md section 5). */
export function directoryLine(warning: DirectoryWarning): string {
  const consequence = warning.kind === 'directory-expired'
    ? ' : les envois sont refusés'
    : ` ; sans nouvel annuaire, les envois seront refusés à partir du ${day(warning.refuseAfter)}`;
  return `pli: attention : l'annuaire devait être mis à jour le ${day(warning.nextUpdate)}${consequence}. Importez le dernier annuaire de l'officier SSI.`;
}

/** The warning of a send made with a directory past its next update (still within the grace period). */
export function sendingWarningLine(warning: DirectoryWarning): string {
  return `Attention : l'annuaire devait être mis à jour le ${day(warning.nextUpdate)}. Sans nouvel annuaire, les envois seront refusés à partir du ${day(warning.refuseAfter)}.`;
}

/** The inbox's alert flags (core/mail/inbox.ts), in the CLI's words; an unknown flag as it is. */
const FLAG_WORDS: Record<string, string> = {
  old: 'créé il y a plus de 90 jours',
  'same-id-different-bytes': 'même identifiant de pli déjà reçu avec un autre contenu',
  'displaced-file': 'un autre fichier occupait sa place dans la boîte de réception (mis de côté)',
  'not-kept': `trop volumineux pour être conservé (plus de ${JUNK_KEEP_MAX_BYTES / 1024 / 1024} Mo) : seule sa trace est gardée (empreinte, taille, origine)`,
  purged: `fichier supprimé ${JUNK_RETENTION_MS / 86_400_000} jours après son arrivée (la trace reste)`,
  'refused-at-opening': "refusé à l'ouverture : son contenu n'est pas conforme (signalez-le à l'officier SSI)",
};

/** One line for `receive` and `inbox`: id, sender, state (the refusal by its code), alerts. Escape it with forTerminal. */
export function inboxLine(db: DB, row: InboxRow): string {
  const sender = row.sender_id ? getIdentity(db, row.sender_id) : undefined;
  const who = sender ? `${sender.name} (${sender.org})` : row.sender_id ? `expéditeur inconnu ${row.sender_id}` : 'expéditeur illisible';
  // Any other state (a row edited by hand) is shown as refused: never as checked.
  const state = row.state === 'verified' ? 'vérifié' : row.state === 'opened' ? 'ouvert' : `refusé (${row.reason})`;
  const flags = row.flags ? `  ATTENTION : ${row.flags.split(',').map((f) => FLAG_WORDS[f] ?? f).join(', ')}` : '';
  return `${row.id}  ${who}  ${state}${flags}`;
}

/** The line `pli inbox` prints about the room refusals take (core/mail/inbox.ts refusedRoom). */
export function refusedRoomLine({ bytes, files }: { bytes: number; files: number }): string {
  const mo = (bytes / 1_000_000).toFixed(1).replace('.', ',');
  return `Place prise par les plis refusés : ${mo} Mo (${plural(files, 'fichier conservé', 'fichiers conservés')} pour l'officier SSI, supprimés ${JUNK_RETENTION_MS / 86_400_000} jours après leur arrivée ; au-delà de ${JUNK_KEEP_MAX_BYTES / 1024 / 1024} Mo, seule la trace est gardée).`;
}
