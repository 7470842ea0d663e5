// A screen that throws while rendering (a value it cannot show, a bug) must never leave the window
// blank: React unmounts the whole tree on an uncaught render error. Each screen is wrapped in one
// of these; it shows, in plain French, which screen failed and offers a way back (reload the screen,
// or return to the inbox). No stack trace and no error text is shown: they are not the user's words,
// and could carry data read from the profile.
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

interface Props {
  /** The screen's name as the user knows it (its navigation label). */
  screen: string;
  /** Return to the inbox; absent on the inbox itself (and before sign-in). */
  onInbox?: () => void;
  /** What to show instead of the default panel (e.g. a table row); gets a retry function. */
  fallback?: (retry: () => void) => ReactNode;
  children: ReactNode;
}

interface State { failed: boolean; attempt: number }

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { failed: false, attempt: 0 };

  static getDerivedStateFromError(): Partial<State> {
    return { failed: true };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // For whoever debugs the workstation (developer tools); never shown in the window.
    console.warn(`Écran « ${this.props.screen} » : erreur d'affichage`, error.message, info.componentStack?.split('\n', 3).join(' '));
  }

  private retry = (): void => {
    // A new key remounts the screen from scratch: it reloads its data.
    this.setState((s) => ({ failed: false, attempt: s.attempt + 1 }));
  };

  override render(): ReactNode {
    if (this.state.failed) {
      return this.props.fallback ? this.props.fallback(this.retry) : <ScreenFailed screen={this.props.screen} onRetry={this.retry} onInbox={this.props.onInbox} />;
    }
    return <ScreenKey key={this.state.attempt}>{this.props.children}</ScreenKey>;
  }
}

function ScreenKey({ children }: { children: ReactNode }) {
  return <>{children}</>;
}

function ScreenFailed({ screen, onRetry, onInbox }: { screen: string; onRetry: () => void; onInbox?: () => void }) {
  const { t } = useTranslation();
  return (
    <main>
      <h1 tabIndex={-1}>{screen}</h1>
      <div role="alert" className="alert error" data-testid="screen-failed">
        <p><strong>{t('boundary.failed', { screen })}</strong></p>
        <p>{t('boundary.safe')}</p>
        <p>{t(onInbox ? 'boundary.whatToDo' : 'boundary.whatToDoHere')}</p>
      </div>
      <div className="actions">
        <button type="button" onClick={onRetry}>{t('boundary.reload')}</button>
        {onInbox && <button type="button" className="secondary" onClick={onInbox}>{t('boundary.toInbox')}</button>}
      </div>
    </main>
  );
}
