import { useState } from 'preact/hooks';
import type { Endpoint, EventTypeInfo, TestSendResult } from '../lib/api-types';
import { dateTime, duration, fromLocalInput, toLocalInput } from '../lib/format';
import { href } from '../lib/route';
import type { Api } from './api-client';
import { Dialog, ErrorBanner, Notice } from './common';
import { setFlash } from './flash';
import { useReadOnly } from './portal-context';
import { SecretOnce } from './secret-once';
import { DEFAULT_TEST_TYPE, TestEventTypeSelect } from './test-event-type';

type Secret = { secret: string; previousSecrets: Array<{ secret: string; expiresAt: number }> };

const GRACE_OPTIONS = [
  { label: 'none (the old secret stops at once)', ms: 0 },
  { label: '1 hour', ms: 3_600_000 },
  { label: '24 hours', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
];

/** How long after a recovery the page looks again: the recovered deliveries are being attempted by then. */
const AFTER_RECOVER_MS = 1500;

/**
 * Edit, test, enable/disable, secret, recover and delete: each a button calling one /v1 route.
 * `onChanged` reloads the endpoint, its health and its chart: called right after anything that
 * changes them, so they do not wait for the next poll.
 */
export function EndpointActions({
  api,
  endpoint: e,
  catalog,
  onChanged,
}: {
  api: Api;
  endpoint: Endpoint;
  catalog: EventTypeInfo[];
  onChanged: () => Promise<void>;
}) {
  const readOnly = useReadOnly();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [test, setTest] = useState<(TestSendResult & { type: string }) | null>(null);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [rotated, setRotated] = useState<string | null>(null);
  const [testType, setTestType] = useState(DEFAULT_TEST_TYPE);
  const [dialog, setDialog] = useState<'rotate' | 'delete' | null>(null);
  const [grace, setGrace] = useState(86_400_000);
  // Where the last recover's scan stopped, for the same `since`: recovering again goes on from there.
  const [recoverFrom, setRecoverFrom] = useState<{ since: number; cursor: string } | null>(null);
  const [since, setSince] = useState(() => toLocalInput(Date.now() - 86_400_000));

  async function run(name: string, action: () => Promise<void>) {
    setBusy(name);
    setError(null);
    setNotice(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  const sendTest = () =>
    run('test', async () => {
      setTest(null);
      setTest({ ...(await api.sendTest(e.id, testType)), type: testType });
      await onChanged();
    });
  const toggle = () =>
    run('toggle', async () => {
      const status = e.status === 'active' ? 'disabled' : 'active';
      await api.updateEndpoint(e.id, { status });
      await onChanged();
      setNotice(status === 'active' ? 'Endpoint enabled.' : 'Endpoint disabled: nothing is delivered to it until it is enabled again.');
    });
  const reveal = () => run('reveal', async () => setSecret(secret ? null : await api.revealSecret(e.id)));
  const rotate = () =>
    run('rotate', async () => {
      const next = await api.rotateSecret(e.id, grace);
      setSecret(null);
      setRotated(next.secret);
      setDialog(null);
      await onChanged();
      setNotice(grace > 0 ? 'Secret rotated. The old one keeps signing beside it during the grace period.' : 'Secret rotated.');
    });
  const recover = (ev: Event) => {
    ev.preventDefault();
    return run('recover', async () => {
      const at = fromLocalInput(since);
      const from = recoverFrom && recoverFrom.since === at ? recoverFrom.cursor : undefined;
      const r = await api.recover(e.id, at ?? Number.NaN, from);
      setRecoverFrom(r.nextCursor && at !== undefined ? { since: at, cursor: r.nextCursor } : null);
      const queued = `${r.recovered} failed ${r.recovered === 1 ? 'delivery' : 'deliveries'} since ${dateTime(at)} queued again.`;
      setNotice(
        r.complete ? queued : `${queued} Older deliveries were not looked at yet (one recover reads 50,000): recover again to go on.`,
      );
      await onChanged();
      if (r.recovered > 0) setTimeout(() => void onChanged(), AFTER_RECOVER_MS);
    });
  };
  const remove = () =>
    run('delete', async () => {
      await api.deleteEndpoint(e.id);
      setDialog(null);
      setFlash(`Endpoint ${e.url} deleted.`);
      location.hash = href({ name: 'endpoints' });
    });

  if (readOnly) {
    return (
      <section class="card" aria-labelledby="actions-h">
        <h2 id="actions-h">Actions</h2>
        <p class="muted">This link is read-only: you can look at everything, and change nothing.</p>
        <a class="button" href={href({ name: 'deliveries', filter: { endpointId: e.id } })}>
          Deliveries
        </a>
      </section>
    );
  }

  return (
    <section class="card" aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      {rotated && <SecretOnce secret={rotated} title="The new signing secret" />}
      <div class="test-send">
        <TestEventTypeSelect catalog={catalog} patterns={e.eventTypes} value={testType} onChange={setTestType} disabled={busy !== null} />
        <button type="button" onClick={sendTest} disabled={busy !== null}>
          {busy === 'test' ? 'Sending…' : 'Send test event'}
        </button>
      </div>
      <div class="button-row">
        <a class="button" href={href({ name: 'endpoint-edit', id: e.id })}>
          Edit
        </a>
        <button type="button" onClick={toggle} disabled={busy !== null}>
          {e.status === 'active' ? 'Disable' : 'Enable'}
        </button>
        <button type="button" onClick={reveal} disabled={busy !== null} aria-expanded={secret !== null} aria-controls="secret-box">
          {secret ? 'Hide secret' : 'Reveal secret'}
        </button>
        <button type="button" onClick={() => setDialog('rotate')} disabled={busy !== null}>
          Rotate secret
        </button>
        <a class="button" href={href({ name: 'deliveries', filter: { endpointId: e.id } })}>
          Deliveries
        </a>
        <button type="button" class="danger" onClick={() => setDialog('delete')} disabled={busy !== null}>
          Delete
        </button>
      </div>
      <ErrorBanner error={error} />
      {notice && <Notice>{notice}</Notice>}
      {test && (
        <div class="notice test-result" role="status">
          Test <code>{test.type}</code> sent:{' '}
          {test.attempt ? (
            <>
              <strong>{test.attempt.outcome}</strong>
              {test.attempt.statusCode !== undefined && ` · HTTP ${test.attempt.statusCode}`}
              {test.attempt.errorKind && ` · ${test.attempt.errorKind}`}
              {test.attempt.errorMessage && ` (${test.attempt.errorMessage})`} · {duration(test.attempt.durationMs)}
            </>
          ) : (
            'no attempt was recorded'
          )}{' '}
          · <a href={href({ name: 'delivery', id: test.deliveryId })}>open the delivery</a>
        </div>
      )}
      {secret && (
        <div id="secret-box" class="secret-box">
          <p>
            Signing secret: <code class="secret">{secret.secret}</code>
          </p>
          {secret.previousSecrets.map((p) => (
            <p key={p.secret} class="muted">
              Previous secret, still signing until {dateTime(p.expiresAt)}: <code class="secret">{p.secret}</code>
            </p>
          ))}
        </div>
      )}
      <form class="inline-form" onSubmit={recover}>
        <div class="field">
          <label for="recover-since">Recover failed deliveries since</label>
          <input id="recover-since" type="datetime-local" value={since} onInput={(ev) => setSince(ev.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy !== null}>
          {busy === 'recover' ? 'Recovering…' : 'Recover'}
        </button>
      </form>

      <Dialog open={dialog === 'rotate'} title="Rotate the signing secret" onClose={() => setDialog(null)}>
        <p>
          A new secret is generated. During the grace period the old one keeps signing beside it, so receivers can switch without losing a
          delivery.
        </p>
        <div class="field">
          <label for="grace">Grace period</label>
          <select id="grace" value={String(grace)} onChange={(ev) => setGrace(Number(ev.currentTarget.value))}>
            {GRACE_OPTIONS.map((o) => (
              <option key={o.ms} value={String(o.ms)}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <ErrorBanner error={error} />
        <div class="button-row">
          <button type="button" class="primary" onClick={rotate} disabled={busy !== null}>
            Rotate
          </button>
          <button type="button" onClick={() => setDialog(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
      <Dialog open={dialog === 'delete'} title="Delete this endpoint?" onClose={() => setDialog(null)}>
        <p>
          <code class="endpoint-url">{e.url}</code> will receive nothing more. This cannot be undone.
        </p>
        <ErrorBanner error={error} />
        <div class="button-row">
          <button type="button" class="danger" onClick={remove} disabled={busy !== null}>
            Delete endpoint
          </button>
          <button type="button" onClick={() => setDialog(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
