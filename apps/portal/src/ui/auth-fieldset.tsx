import type { AuthType } from '../lib/api-types';
import type { AuthFields } from '../lib/endpoint-form';

const AUTH_TYPES: Array<{ type: AuthType; label: string }> = [
  { type: 'none', label: 'None' },
  { type: 'basic', label: 'Basic (username and password)' },
  { type: 'api-key', label: 'API key in a header' },
  { type: 'bearer', label: 'Bearer token' },
  { type: 'oauth2-client-credentials', label: 'OAuth 2.0 client credentials' },
  { type: 'digest', label: 'Digest (RFC 7616)' },
  { type: 'aws-sigv4', label: 'AWS Signature V4' },
];

type Key = Exclude<keyof AuthFields, 'type' | 'clientAuth'>;

/** Which inputs each scheme has; `secret` ones are write-only and never shown back by the API. */
const FIELDS: Record<AuthType, Array<{ key: Key; label: string; secret?: boolean; optional?: boolean }>> = {
  none: [],
  basic: [
    { key: 'username', label: 'Username' },
    { key: 'password', label: 'Password', secret: true },
  ],
  digest: [
    { key: 'username', label: 'Username' },
    { key: 'password', label: 'Password', secret: true },
  ],
  'api-key': [
    { key: 'header', label: 'Header name' },
    { key: 'value', label: 'Key', secret: true },
  ],
  bearer: [{ key: 'token', label: 'Token', secret: true }],
  'oauth2-client-credentials': [
    { key: 'tokenUrl', label: 'Token URL' },
    { key: 'clientId', label: 'Client ID' },
    { key: 'clientSecret', label: 'Client secret', secret: true },
    { key: 'scope', label: 'Scope', optional: true },
    { key: 'audience', label: 'Audience', optional: true },
  ],
  'aws-sigv4': [
    { key: 'accessKeyId', label: 'Access key ID' },
    { key: 'secretAccessKey', label: 'Secret access key', secret: true },
    { key: 'region', label: 'Region' },
    { key: 'service', label: 'Service' },
    { key: 'sessionToken', label: 'Session token', secret: true, optional: true },
  ],
};

/** How the worker authenticates to the receiver. On an edit, secrets are typed again to change auth. */
export function AuthFieldset(props: {
  value: AuthFields;
  onChange: (v: AuthFields) => void;
  editing: boolean;
  configured: boolean;
  invalid?: boolean;
}) {
  const a = props.value;
  const set = (patch: Partial<AuthFields>) => props.onChange({ ...a, ...patch });
  return (
    <fieldset class={props.invalid ? 'field-invalid' : ''}>
      <legend>Authentication to the receiver</legend>
      {props.editing && props.configured && (
        <p class="hint">
          Secrets are write-only: they are not shown here. Change anything in this section and enter the secret again to replace it.
        </p>
      )}
      <div class="field">
        <label for="auth-type">Type</label>
        <select id="auth-type" value={a.type} onChange={(e) => set({ type: e.currentTarget.value as AuthType })}>
          {AUTH_TYPES.map((t) => (
            <option key={t.type} value={t.type}>
              {t.label}
            </option>
          ))}
        </select>
      </div>
      <div class="field-grid">
        {FIELDS[a.type].map((f) => (
          <div class="field" key={f.key}>
            <label for={`auth-${f.key}`}>
              {f.label}
              {f.optional && <span class="muted"> (optional)</span>}
            </label>
            {f.secret ? (
              <input
                id={`auth-${f.key}`}
                type="password"
                autocomplete="off"
                placeholder={props.editing && props.configured ? 'unchanged (write-only)' : ''}
                value={a[f.key]}
                onInput={(e) => set({ [f.key]: e.currentTarget.value })}
              />
            ) : (
              <input
                id={`auth-${f.key}`}
                type="text"
                autocomplete="off"
                spellcheck={false}
                value={a[f.key]}
                onInput={(e) => set({ [f.key]: e.currentTarget.value })}
              />
            )}
          </div>
        ))}
        {a.type === 'oauth2-client-credentials' && (
          <div class="field">
            <label for="auth-clientAuth">Client authentication</label>
            <select
              id="auth-clientAuth"
              value={a.clientAuth}
              onChange={(e) => set({ clientAuth: e.currentTarget.value as 'body' | 'basic' })}
            >
              <option value="body">In the request body (client_secret_post)</option>
              <option value="basic">Basic header (client_secret_basic)</option>
            </select>
          </div>
        )}
      </div>
    </fieldset>
  );
}
