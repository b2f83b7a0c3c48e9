import { useEffect, useState } from 'preact/hooks';
import type { Subscriber } from '../lib/api-types';
import { ApiError, listSubscribers, whoAmI } from './api-client';
import { ErrorBanner, PageHeading } from './common';
import { usePageTitle } from './hooks';
import type { Session } from './session';

/**
 * Sign in with a key. GET /v1/whoami says what the key is (any key may ask, so a subscriber key
 * never touches an admin route): the admin then chooses a subscriber (GET /v1/subscribers); a
 * subscriber key, or a portal session token pasted here, signs in as its own subscriber, by name.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  usePageTitle('Sign in');
  const [key, setKey] = useState('');
  const [subscriberId, setSubscriberId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [adminKey, setAdminKey] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    const k = key.trim();
    const sid = subscriberId.trim();
    if (!k) return setError(new Error('Enter an API key.'));
    setBusy(true);
    try {
      const me = await whoAmI(k).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401)
          throw new Error('That key was not accepted. Check that you copied all of it, or ask for a new one.');
        throw err;
      });
      if (me.role === 'admin') {
        if (!sid) return setAdminKey(k);
        const chosen = (await listSubscribers(k)).data.find((s) => s.id === sid);
        if (!chosen) throw new Error(`There is no subscriber ${sid}. Leave the ID empty to choose from the list.`);
        return onSignedIn({ key: k, subscriberId: chosen.id, subscriberName: chosen.name, admin: true });
      }
      if (me.role === 'publisher' || !me.subscriberId)
        throw new Error('A publisher key cannot sign in here: it can only publish events. Use a subscriber key.');
      if (sid && sid !== me.subscriberId)
        throw new Error(`That key belongs to another subscriber than ${sid}. Leave the ID empty, or check it.`);
      const link = me.session ? { sessionId: me.session.id, expiresAt: me.session.expiresAt, readOnly: me.session.readOnly } : undefined;
      onSignedIn({
        key: k,
        subscriberId: me.subscriberId,
        subscriberName: me.subscriberName ?? undefined,
        admin: false,
        ...(link ? { link } : {}),
      });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (adminKey) return <ChooseSubscriber adminKey={adminKey} onChosen={onSignedIn} onCancel={() => setAdminKey(null)} />;

  return (
    <main id="main" class="narrow">
      <PageHeading>Sign in to the Hookrelay portal</PageHeading>
      <p>
        Manage your webhook endpoints and see every delivery. Your key stays in this tab only (session storage) and is sent to this server's
        API and nowhere else.
      </p>
      <form onSubmit={submit} class="card" aria-describedby="signin-help">
        <div class="field">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            required
          />
        </div>
        <div class="field">
          <label for="subscriber-id">Subscriber ID</label>
          <input
            id="subscriber-id"
            name="subscriber-id"
            type="text"
            autocomplete="off"
            spellcheck={false}
            placeholder="sub_…"
            value={subscriberId}
            onInput={(e) => setSubscriberId(e.currentTarget.value)}
            aria-describedby="subscriber-id-hint"
          />
          <small class="hint" id="subscriber-id-hint">
            Optional: a subscriber key knows its subscriber. With the admin key, leave it empty to choose from the list.
          </small>
        </div>
        <ErrorBanner error={error} title="Could not sign in" />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p id="signin-help" class="hint">
        Subscriber keys are issued by the admin with <code>POST /v1/subscribers</code>.
      </p>
    </main>
  );
}

/** The admin's subscriber picker, from GET /v1/subscribers, with a filter for long lists. */
export function ChooseSubscriber(props: { adminKey: string; onChosen: (s: Session) => void; onCancel: () => void }) {
  usePageTitle('Choose a subscriber');
  const [subscribers, setSubscribers] = useState<Subscriber[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    listSubscribers(props.adminKey).then(
      (r) => setSubscribers(r.data),
      (err) => setError(err),
    );
  }, [props.adminKey]);
  const needle = filter.trim().toLowerCase();
  const shown = (subscribers ?? []).filter((s) => !needle || s.name.toLowerCase().includes(needle) || s.id.toLowerCase().includes(needle));
  return (
    <main id="main" class="narrow">
      <PageHeading>Choose a subscriber</PageHeading>
      <p>Signed in with the admin key. Whose endpoints and deliveries do you want to see?</p>
      <ErrorBanner error={error} />
      <div class="field">
        <label for="subscriber-filter">Filter by name or ID</label>
        <input id="subscriber-filter" type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </div>
      {subscribers === null && !error && <p role="status">Loading subscribers…</p>}
      {subscribers !== null && shown.length === 0 && (
        <p role="status">No subscribers{needle ? ' match' : ' yet: create one with POST /v1/subscribers'}.</p>
      )}
      <ul class="plain-list subscriber-list">
        {shown.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              class="list-button"
              onClick={() => props.onChosen({ key: props.adminKey, subscriberId: s.id, subscriberName: s.name, admin: true })}
            >
              <strong>{s.name}</strong> <code>{s.id}</code>
            </button>
          </li>
        ))}
      </ul>
      <button type="button" onClick={props.onCancel}>
        Back to sign in
      </button>
    </main>
  );
}
