import { PageHeading } from './common';
import { usePageTitle } from './hooks';

/** Whom the pages send people to for a new link: the platform's name when the operator set one. */
const whom = (platformName: string | null) => platformName ?? 'the service that sent you the link';

/** A portal link that has run out (or was revoked): what to do, instead of API errors. */
export function LinkExpiredPage({ platformName }: { platformName: string | null }) {
  usePageTitle('This link has expired');
  return (
    <main id="main" class="narrow">
      <div class="card link-ended" role="alert">
        <PageHeading>This link has expired</PageHeading>
        <p>
          Portal links work for a limited time, for your security. Ask <strong>{whom(platformName)}</strong> for a new one.
        </p>
        <p class="hint">Nothing was changed by the link running out: your endpoints and deliveries are as you left them.</p>
      </div>
    </main>
  );
}

/** After signing out of a link: it cannot be used again. */
export function SignedOutPage({ platformName, onSignIn }: { platformName: string | null; onSignIn: () => void }) {
  usePageTitle('Signed out');
  return (
    <main id="main" class="narrow">
      <div class="card link-ended">
        <PageHeading>You have signed out</PageHeading>
        <p>
          The link you used no longer works. To come back, ask <strong>{whom(platformName)}</strong> for a new one.
        </p>
        <button type="button" class="link-button" onClick={onSignIn}>
          Sign in with an API key instead
        </button>
      </div>
    </main>
  );
}
