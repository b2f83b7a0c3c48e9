import { useState } from 'preact/hooks';
import { href } from '../lib/route';
import {
  newSourceForm,
  PROVIDERS,
  providerOf,
  sourceCreateBody,
  switchProvider,
  type ProviderField,
  type SourceFormState,
} from '../lib/source-form';
import { ApiError, type Api } from './api-client';
import { ErrorBanner, Field, PageHeading } from './common';
import { setFlash } from './flash';
import { usePageTitle } from './hooks';

/**
 * A new source: a name, the sender (a picker that shows that sender's fields and nothing else), and
 * optionally the event type it publishes. The API validates; its errors are shown by the fields.
 */
export function SourceFormView({ api }: { api: Api }) {
  usePageTitle('New source');
  const [form, setForm] = useState<SourceFormState>(() => newSourceForm());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const provider = providerOf(form.provider);

  const details = error instanceof ApiError ? error.details : [];
  const errorAt = (path: string) =>
    details
      .filter((d) => d.path === path || d.path.startsWith(`${path}.`))
      .map((d) => d.message)
      .join('; ') || undefined;

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api.createSource(sourceCreateBody(form));
      setFlash(
        `Source created. Give the sender its URL; it becomes verified on its first request that passes the ${provider.label} check.`,
      );
      location.hash = href({ name: 'source', id: created.id });
    } catch (err) {
      setError(err);
      document.getElementById('form-error')?.focus();
    } finally {
      setBusy(false);
    }
  }

  const setValue = (name: string, value: string | boolean) => setForm((f) => ({ ...f, values: { ...f.values, [name]: value } }));

  return (
    <main id="main">
      <p class="breadcrumb">
        <a href={href({ name: 'sources' })}>Sources</a> /
      </p>
      <PageHeading>New source</PageHeading>
      <form onSubmit={submit} class="source-form" noValidate>
        <section class="card">
          <Field id="source-name" label="Name" hint="For you: e.g. acme/api on GitHub." error={errorAt('name')}>
            <input id="source-name" value={form.name} onInput={(e) => setForm((f) => ({ ...f, name: e.currentTarget.value }))} />
          </Field>
          <fieldset class="provider-picker">
            <legend>Sender</legend>
            <div class="provider-options" role="radiogroup" aria-label="Sender">
              {PROVIDERS.map((p) => (
                <label key={p.type} class={`provider-option${p.type === form.provider ? ' is-chosen' : ''}`}>
                  <input
                    type="radio"
                    name="provider"
                    value={p.type}
                    checked={p.type === form.provider}
                    onChange={() => {
                      setForm((f) => switchProvider(f, p.type));
                      setError(null);
                    }}
                  />
                  {p.label}
                </label>
              ))}
            </div>
          </fieldset>
        </section>

        <section class="card" aria-labelledby="provider-fields-h" data-provider={provider.type}>
          <h2 id="provider-fields-h">{provider.label} verification</h2>
          {provider.handshake && <p class="muted">{provider.handshake}</p>}
          {provider.fields.map((field) => (
            <ProviderInput
              key={`${provider.type}-${field.name}`}
              field={field}
              value={form.values[field.name]}
              onChange={(v) => setValue(field.name, v)}
              error={errorAt(`verification.${field.name}`) ?? (provider.type === 'header' ? errorAt('verification.headers') : undefined)}
            />
          ))}
          {errorAt('verification.type') && <small class="field-error">{errorAt('verification.type')}</small>}
        </section>

        <section class="card">
          <Field
            id="source-event-type"
            label={provider.defaultEventType ? 'Event type (optional)' : 'Event type'}
            hint={
              provider.defaultEventType
                ? `Empty: ${provider.defaultEventType}. Fixed (source.jira.issue) or a template with {$.path} and {header:Name}.`
                : 'Fixed (source.jira.issue) or a template with {$.path} and {header:Name}, e.g. jira.{$.webhookEvent}.'
            }
            error={errorAt('eventType')}
          >
            <input
              id="source-event-type"
              placeholder={provider.defaultEventType ?? 'source.jira.issue'}
              value={form.eventType}
              onInput={(e) => setForm((f) => ({ ...f, eventType: e.currentTarget.value }))}
            />
          </Field>
        </section>

        <div id="form-error" tabIndex={-1}>
          <ErrorBanner error={error} title="Could not create the source" />
        </div>
        <div class="button-row">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create source'}
          </button>
          <a class="button" href={href({ name: 'sources' })}>
            Cancel
          </a>
        </div>
      </form>
    </main>
  );
}

function ProviderInput({
  field,
  value,
  onChange,
  error,
}: {
  field: ProviderField;
  value: string | boolean | undefined;
  onChange: (v: string | boolean) => void;
  error?: string;
}) {
  const id = `verification-${field.name}`;
  if (field.kind === 'checkbox') {
    return (
      <label class="checkbox">
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} /> {field.label}
      </label>
    );
  }
  const text = typeof value === 'string' ? value : '';
  return (
    <Field id={id} label={field.optional ? `${field.label} (optional)` : field.label} hint={field.hint} error={error}>
      {field.kind === 'textarea' ? (
        <textarea id={id} rows={3} spellcheck={false} value={text} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : field.kind === 'secret' ? (
        <input
          id={id}
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={text}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      ) : (
        <input
          id={id}
          type="text"
          inputMode={field.kind === 'number' ? 'numeric' : undefined}
          autocomplete="off"
          spellcheck={false}
          value={text}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}
