import { useEffect, useState } from 'preact/hooks';
import type { Endpoint, EventTypeInfo, SignatureScheme, VerifyMode } from '../lib/api-types';
import { millisHint } from '../lib/format';
import { createBody, formFromEndpoint, newEndpointForm, patchBody, sectionOfPath, type EndpointFormState } from '../lib/endpoint-form';
import { href } from '../lib/route';
import { ApiError, type Api } from './api-client';
import { AuthFieldset } from './auth-fieldset';
import { ErrorBanner, Field, PageHeading } from './common';
import { EventTypePicker } from './event-type-picker';
import { setFlash, setSecretOnce } from './flash';
import { usePageTitle } from './hooks';

/** "1 min", "1.5 h": the typed seconds in a bigger unit, once they add up to one. */
const secondsHint = (text: string) => (Number(text) >= 60 ? millisHint(String(Number(text) * 1000)) : '');

const VERIFY_MODES: Array<{ mode: VerifyMode; label: string }> = [
  { mode: 'none', label: 'None' },
  { mode: 'post', label: 'POST a signed test event; needs a 2xx' },
  { mode: 'get', label: 'GET the URL; needs a 200' },
  { mode: 'challenge', label: 'GET ?type=subscribe&challenge=…; must echo the challenge' },
];

/** Create (no `id`) or edit an endpoint. The API validates; its errors are shown by the fields they name. */
export function EndpointFormView({ api, id, catalog }: { api: Api; id?: string; catalog: EventTypeInfo[] }) {
  const editing = id !== undefined;
  usePageTitle(editing ? 'Edit endpoint' : 'New endpoint');
  const [original, setOriginal] = useState<Endpoint | null>(null);
  const [form, setForm] = useState<EndpointFormState>(newEndpointForm);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!id) return;
    api.getEndpoint(id).then(
      (e) => {
        setOriginal(e);
        setForm(formFromEndpoint(e));
      },
      (err) => setError(err),
    );
  }, [api, id]);

  const set = (patch: Partial<EndpointFormState>) => setForm((f) => ({ ...f, ...patch }));
  const details = error instanceof ApiError ? error.details : [];
  const describe = (matching: (path: string) => boolean) =>
    details
      .filter((d) => matching(d.path))
      .map((d) => `${d.path}: ${d.message}`)
      .join('; ') || undefined;
  /** The API's words for one form section (`headers`, `auth`, ...) or for one exact field path. */
  const errorFor = (section: string) => describe((path) => sectionOfPath(path) === section);
  const errorAt = (field: string) => describe((path) => path === field || path.startsWith(`${field}.`));

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (!editing) {
        const created = await api.createEndpoint(createBody(form));
        setFlash('Endpoint created.');
        setSecretOnce(created.id, created.secret);
        location.hash = href({ name: 'endpoint', id: created.id });
      } else if (original) {
        const body = patchBody(form, original);
        if (Object.keys(body).length > 0) {
          const saved = await api.updateEndpoint(original.id, body);
          setFlash(saved.secret ? 'Saved. The new signature scheme needed a new secret.' : 'Changes saved.');
          if (saved.secret) setSecretOnce(original.id, saved.secret);
        } else setFlash('Nothing changed.');
        location.hash = href({ name: 'endpoint', id: original.id });
      }
    } catch (err) {
      setError(err);
      document.getElementById('form-error')?.focus();
    } finally {
      setBusy(false);
    }
  }

  if (editing && !original) {
    return (
      <main id="main">
        <PageHeading>Edit endpoint</PageHeading>
        <ErrorBanner error={error} />
        {!error && <p role="status">Loading…</p>}
      </main>
    );
  }

  return (
    <main id="main">
      <p class="breadcrumb">
        <a href={href({ name: 'endpoints' })}>Endpoints</a> /
      </p>
      <PageHeading>{editing ? 'Edit endpoint' : 'New endpoint'}</PageHeading>
      <form onSubmit={submit} class="endpoint-form" noValidate>
        <section class="card">
          <Field id="url" label="URL" hint="Where deliveries are POSTed." error={errorFor('url')}>
            <input id="url" type="url" inputMode="url" required value={form.url} onInput={(e) => set({ url: e.currentTarget.value })} />
          </Field>
          <Field id="description" label="Description" error={errorFor('description')}>
            <input id="description" value={form.description} onInput={(e) => set({ description: e.currentTarget.value })} />
          </Field>
          <EventTypePicker
            value={form.eventTypes}
            onChange={(eventTypes) => set({ eventTypes })}
            catalog={catalog}
            invalid={!!errorFor('eventTypes')}
          />
          {errorFor('eventTypes') && <small class="field-error">{errorFor('eventTypes')}</small>}
        </section>

        <section class="card">
          <fieldset class={errorFor('signature') || errorFor('secret') ? 'field-invalid' : ''}>
            <legend>Signature</legend>
            <div class="field-grid">
              <div class="field">
                <label for="scheme">Scheme</label>
                <select id="scheme" value={form.scheme} onChange={(e) => set({ scheme: e.currentTarget.value as SignatureScheme })}>
                  <option value="x-hub-signature">x-hub-signature (HMAC hex; Webex Connect, WebSub)</option>
                  <option value="x-signature">x-signature (base64 HMAC-SHA256; Zenduty)</option>
                  <option value="standard-webhooks">Standard Webhooks (webhook-signature)</option>
                  <option value="none">none</option>
                </select>
              </div>
              {form.scheme === 'x-hub-signature' && (
                <div class="field">
                  <label for="algorithm">Algorithm</label>
                  <select
                    id="algorithm"
                    value={form.algorithm}
                    onChange={(e) => set({ algorithm: e.currentTarget.value as EndpointFormState['algorithm'] })}
                  >
                    <option value="sha256">sha256</option>
                    <option value="sha512">sha512</option>
                    <option value="sha1">sha1 (legacy; the server may refuse it)</option>
                  </select>
                </div>
              )}
            </div>
            {form.scheme === 'x-hub-signature' && (
              <label class="checkbox">
                <input type="checkbox" checked={form.prefix} onChange={(e) => set({ prefix: e.currentTarget.checked })} /> Prefix the value
                with the algorithm, as in <code>sha256=…</code>
              </label>
            )}
            {!editing && (
              <Field id="secret" label="Secret (optional)" hint="Leave empty and one is generated." error={errorFor('secret')}>
                <input
                  id="secret"
                  type="password"
                  autocomplete="off"
                  value={form.secret}
                  onInput={(e) => set({ secret: e.currentTarget.value })}
                />
              </Field>
            )}
            {errorFor('signature') && <small class="field-error">{errorFor('signature')}</small>}
          </fieldset>
        </section>

        <section class="card">
          <fieldset class={errorFor('headers') ? 'field-invalid' : ''}>
            <legend>Custom headers</legend>
            {form.headers.length === 0 && <p class="muted">None.</p>}
            {form.headers.map((h, i) => (
              <div class="header-row" key={i}>
                <label for={`header-name-${i}`} class="visually-hidden">{`Header ${i + 1} name`}</label>
                <input
                  id={`header-name-${i}`}
                  placeholder="Name"
                  value={h.name}
                  onInput={(e) => set({ headers: form.headers.map((x, j) => (j === i ? { ...x, name: e.currentTarget.value } : x)) })}
                />
                <label for={`header-value-${i}`} class="visually-hidden">{`Header ${i + 1} value`}</label>
                <input
                  id={`header-value-${i}`}
                  placeholder="Value"
                  value={h.value}
                  onInput={(e) => set({ headers: form.headers.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)) })}
                />
                <button
                  type="button"
                  aria-label={`Remove header ${i + 1}`}
                  onClick={() => set({ headers: form.headers.filter((_, j) => j !== i) })}
                >
                  Remove
                </button>
              </div>
            ))}
            <button type="button" onClick={() => set({ headers: [...form.headers, { name: '', value: '' }] })}>
              Add header
            </button>
            {errorFor('headers') && <small class="field-error">{errorFor('headers')}</small>}
          </fieldset>
        </section>

        <section class="card">
          <AuthFieldset
            value={form.auth}
            onChange={(auth) => set({ auth, authChanged: true })}
            editing={editing}
            configured={original?.auth.configured === true}
            invalid={!!errorFor('auth')}
          />
          {errorFor('auth') && <small class="field-error">{errorFor('auth')}</small>}
        </section>

        <section class="card">
          <fieldset>
            <legend>Retries and timeout</legend>
            <div class="field-grid">
              <Field id="maxRetries" label="Max retries" error={errorAt('retry.maxRetries')}>
                <input
                  id="maxRetries"
                  inputMode="numeric"
                  value={form.maxRetries}
                  onInput={(e) => set({ maxRetries: e.currentTarget.value })}
                />
              </Field>
              <Field
                id="intervalSeconds"
                label="Retry interval (seconds)"
                hint={secondsHint(form.intervalSeconds)}
                error={errorAt('retry.intervalMs')}
              >
                <input
                  id="intervalSeconds"
                  inputMode="decimal"
                  value={form.intervalSeconds}
                  onInput={(e) => set({ intervalSeconds: e.currentTarget.value })}
                />
              </Field>
              <Field id="backoff" label="Backoff" error={errorAt('retry.backoff')}>
                <select
                  id="backoff"
                  value={form.backoff}
                  onChange={(e) => set({ backoff: e.currentTarget.value as 'fixed' | 'exponential' })}
                >
                  <option value="fixed">fixed</option>
                  <option value="exponential">exponential (doubles, ±20% jitter)</option>
                </select>
              </Field>
              <Field
                id="timeoutSeconds"
                label="Timeout per attempt (seconds)"
                hint={secondsHint(form.timeoutSeconds)}
                error={errorFor('timeoutMs')}
              >
                <input
                  id="timeoutSeconds"
                  inputMode="decimal"
                  value={form.timeoutSeconds}
                  onInput={(e) => set({ timeoutSeconds: e.currentTarget.value })}
                />
              </Field>
              <Field
                id="ratePerSecond"
                label="Rate limit (deliveries a second)"
                hint="Empty for no limit; 0.5 is one every two seconds."
                error={errorAt('rateLimit')}
              >
                <input
                  id="ratePerSecond"
                  inputMode="decimal"
                  value={form.ratePerSecond}
                  onInput={(e) => set({ ratePerSecond: e.currentTarget.value })}
                />
              </Field>
            </div>
            {details.some((d) => d.path === 'retry') && <small class="field-error">{describe((path) => path === 'retry')}</small>}
          </fieldset>
          <Field id="verify" label="Verification (on create and when the URL changes)" error={errorFor('verify')}>
            <select id="verify" value={form.verify} onChange={(e) => set({ verify: e.currentTarget.value as VerifyMode })}>
              {VERIFY_MODES.map((v) => (
                <option key={v.mode} value={v.mode}>
                  {v.label}
                </option>
              ))}
            </select>
          </Field>
        </section>

        <div id="form-error" tabIndex={-1}>
          <ErrorBanner error={error} title={editing ? 'Could not save' : 'Could not create the endpoint'} />
        </div>
        <div class="button-row">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : editing ? 'Save changes' : 'Create endpoint'}
          </button>
          <a class="button" href={editing && id ? href({ name: 'endpoint', id }) : href({ name: 'endpoints' })}>
            Cancel
          </a>
        </div>
      </form>
    </main>
  );
}
