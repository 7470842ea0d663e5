// The command line's French lines for the watch mode's typed news (core/mail/imap.ts MailStatus):
// the core reports values, the CLI words them (the interface does the same through i18n).
import { PliError } from '../core/errors.js';
import type { MailStatus } from '../core/mail/imap.js';
import type { DirectoryWarning } from '../core/authority/directory.js';
import { cliMessage } from './hints.js';

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
