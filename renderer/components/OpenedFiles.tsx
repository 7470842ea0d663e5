// The files a container was opened into, as both the Container and the Inbox screens show them:
// sender, folder, each file with its size, SHA-256 and a warning for risky types.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Outside, StatusBox, baseName, shortId, useFormat } from './common';
import { forScreen } from '../../shared/text';
import { fileRisk } from '../../shared/filetypes';

export interface OpenedSummary {
  senderName: string;
  outDir: string;
  files: { name: string; path: string; size: number; sha256: string }[];
}

export function OpenedFiles({ opened, onReveal, children }: { opened: OpenedSummary; onReveal: (path: string) => void; children?: ReactNode }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <>
      <StatusBox>{t('container.opened', { name: forScreen(opened.senderName), count: opened.files.length, dir: baseName(opened.outDir) })}</StatusBox>
      <table>
        <caption>{t('container.filesCaption')}<br /><span className="hint">{t('container.sha256Hint')}</span></caption>
        <thead><tr><th scope="col">{t('container.fileName')}</th><th scope="col">{t('container.fileSize')}</th><th scope="col">{t('container.sha256')}</th><th scope="col">{t('container.note')}</th></tr></thead>
        <tbody>
          {opened.files.map((file) => {
            const risk = fileRisk(file.name);
            return (
              <tr key={file.path}>
                <td><Outside text={file.name} /></td>
                <td>{format.size(file.size)}</td>
                <td><code title={file.sha256}>{shortId(file.sha256)}</code></td>
                <td>{risk === 'usual' ? '' : <span className="warning-text">{t(`risk.received.${risk}`)}</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" onClick={() => onReveal(opened.files[0]?.path ?? opened.outDir)}>{t('common.showInFolder')}</button>
        {children}
      </div>
    </>
  );
}
