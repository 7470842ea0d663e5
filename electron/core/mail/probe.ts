// `pli mailbox test`: connects to both servers with the saved settings and says what works.
import type { Context } from '../context.js';
import type { PliError } from '../errors.js';
import { requireMailbox, unlockMailboxPassword, formatEndpoint } from './settings.js';
import { connectionError, imapClient, smtpTransport } from './connect.js';
import { plural } from '../../../shared/french.js';

export interface ProbeLine { what: 'SMTP' | 'IMAP'; ok: boolean; text: string; error?: PliError }

export async function probeMailbox(ctx: Context, as?: string): Promise<ProbeLine[]> {
  const settings = requireMailbox(ctx.profile.db);
  const password = await unlockMailboxPassword(ctx, as);
  const lines: ProbeLine[] = [];
  const transport = await smtpTransport(settings, password);
  try {
    await transport.verify();
    lines.push({ what: 'SMTP', ok: true, text: `SMTP ${formatEndpoint(settings.smtp)} : connexion chiffrée, certificat vérifié, identifiant accepté.` });
  } catch (error) {
    const mapped = connectionError(error, 'SMTP', settings.smtp);
    lines.push({ what: 'SMTP', ok: false, text: `SMTP ${formatEndpoint(settings.smtp)} : ${mapped.message}`, error: mapped });
  } finally {
    transport.close();
  }
  const client = await imapClient(settings, password);
  try {
    await client.connect();
    const box = await client.mailboxOpen('INBOX');
    lines.push({ what: 'IMAP', ok: true, text: `IMAP ${formatEndpoint(settings.imap)} : connexion chiffrée, certificat vérifié, identifiant accepté, ${plural(box.exists, 'message')} dans INBOX.` });
  } catch (error) {
    const mapped = connectionError(error, 'IMAP', settings.imap);
    lines.push({ what: 'IMAP', ok: false, text: `IMAP ${formatEndpoint(settings.imap)} : ${mapped.message}`, error: mapped });
  } finally {
    client.close();
  }
  return lines;
}
