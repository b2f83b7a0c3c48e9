/**
 * The source form's provider picker: for each sender, the fields its verification needs (and only
 * those), what the API fills in when the form leaves it out, and how the form turns into the body of
 * `POST /v1/subscribers/:sid/sources`. The API validates; this only shapes.
 */
export interface ProviderField {
  /** The property under `verification` (for `header`: the two halves of one header). */
  name: string;
  label: string;
  kind: 'secret' | 'text' | 'textarea' | 'number' | 'checkbox';
  hint?: string;
  optional?: boolean;
  /** What a checkbox starts as. */
  checked?: boolean;
}

export interface ProviderInfo {
  type: string;
  label: string;
  fields: ProviderField[];
  /** The event type the API stores when the form leaves it empty; none: the form must name one. */
  defaultEventType?: string;
  /** What the sender does first, in a sentence. */
  handshake?: string;
}

const tolerance: ProviderField = {
  name: 'toleranceSeconds',
  label: 'Clock tolerance (seconds)',
  kind: 'number',
  optional: true,
  hint: 'Default 300: a signed timestamp further from now is refused.',
};

export const PROVIDERS: readonly ProviderInfo[] = [
  {
    type: 'github',
    label: 'GitHub',
    fields: [
      {
        name: 'secret',
        label: 'Webhook secret',
        kind: 'secret',
        hint: 'The secret you enter in the repository or organisation webhook settings.',
      },
    ],
    defaultEventType: 'github.{header:X-GitHub-Event}.{$.action?}',
    handshake:
      'GitHub sends a signed ping when the webhook is created: it is answered and marks the source verified. Redeliveries (same X-GitHub-Delivery) are published once.',
  },
  {
    type: 'stripe',
    label: 'Stripe',
    fields: [
      { name: 'secret', label: 'Signing secret', kind: 'secret', hint: 'whsec_… from the endpoint in the Stripe dashboard.' },
      tolerance,
    ],
    defaultEventType: 'stripe.{$.type}',
  },
  {
    type: 'slack',
    label: 'Slack',
    fields: [
      { name: 'signingSecret', label: 'Signing secret', kind: 'secret', hint: 'Basic Information → App Credentials → Signing Secret.' },
    ],
    defaultEventType: 'slack.{$.event.type}',
    handshake: 'Slack’s signed url_verification is answered with its challenge.',
  },
  {
    type: 'twilio',
    label: 'Twilio',
    fields: [
      {
        name: 'authToken',
        label: 'Auth token',
        kind: 'secret',
        hint: 'The account’s auth token (Console → Account info). Twilio signs the full public URL: the server needs HOOKRELAY_PUBLIC_URL.',
      },
    ],
    defaultEventType: 'source.twilio',
  },
  {
    type: 'pagerduty',
    label: 'PagerDuty',
    fields: [{ name: 'secret', label: 'Webhook secret', kind: 'secret', hint: 'Shown once when the v3 webhook subscription is created.' }],
    defaultEventType: 'pagerduty.{$.event.event_type}',
  },
  {
    type: 'zendesk',
    label: 'Zendesk',
    fields: [
      { name: 'secret', label: 'Signing secret', kind: 'secret', hint: 'Admin Center → Webhooks → the webhook → Reveal secret.' },
      tolerance,
    ],
    defaultEventType: 'source.zendesk',
  },
  {
    type: 'sendgrid',
    label: 'SendGrid',
    fields: [
      {
        name: 'publicKey',
        label: 'Verification key',
        kind: 'textarea',
        hint: 'Mail Settings → Event Webhook → Signature Verification: the public key SendGrid shows (base64).',
      },
      tolerance,
      { name: 'splitEvents', label: 'Publish each event of a batch as its own event', kind: 'checkbox', checked: true },
    ],
    defaultEventType: 'sendgrid.{$.event}',
  },
  {
    type: 'facebook',
    label: 'Facebook / Meta',
    fields: [
      { name: 'appSecret', label: 'App secret', kind: 'secret', hint: 'App settings → Basic → App secret.' },
      {
        name: 'verifyToken',
        label: 'Verify token',
        kind: 'secret',
        hint: 'Any text you choose; enter the same in the app’s webhook settings.',
      },
    ],
    defaultEventType: 'facebook.{$.object}',
    handshake: 'Meta’s hub.challenge check is answered only when its verify token matches, and marks the source verified.',
  },
  {
    type: 'twitter',
    label: 'Twitter / X',
    fields: [{ name: 'consumerSecret', label: 'Consumer secret', kind: 'secret', hint: 'The app’s API key secret.' }],
    defaultEventType: 'source.twitter',
    handshake: 'The CRC check (GET ?crc_token=…) is answered with the signed response token.',
  },
  {
    type: 'shopify',
    label: 'Shopify',
    fields: [
      {
        name: 'secret',
        label: 'Client secret',
        kind: 'secret',
        hint: 'The app’s client secret, or the signing secret shown under Notifications → Webhooks.',
      },
    ],
    defaultEventType: 'shopify.{header:X-Shopify-Topic}',
    handshake: 'Retries (same X-Shopify-Webhook-Id) are published once.',
  },
  {
    type: 'standard-webhooks',
    label: 'Standard Webhooks',
    fields: [{ name: 'secret', label: 'Secret', kind: 'secret', hint: 'whsec_ followed by base64 (24 to 64 bytes).' }, tolerance],
  },
  {
    type: 'hmac',
    label: 'Other: HMAC of the body',
    fields: [
      { name: 'header', label: 'Signature header', kind: 'text', hint: 'e.g. X-Signature' },
      { name: 'algorithm', label: 'Algorithm (sha256, sha512 or sha1)', kind: 'text', optional: true },
      { name: 'encoding', label: 'Encoding (hex or base64)', kind: 'text', optional: true },
      { name: 'prefix', label: 'Prefix before the MAC', kind: 'text', optional: true, hint: 'e.g. sha256=' },
      { name: 'secret', label: 'Secret', kind: 'secret' },
    ],
  },
  {
    type: 'header',
    label: 'Other: shared secret header',
    fields: [
      { name: 'headerName', label: 'Header name', kind: 'text', hint: 'e.g. X-Webhook-Token' },
      { name: 'headerValue', label: 'Header value', kind: 'secret' },
    ],
  },
  {
    type: 'basic',
    label: 'Other: HTTP basic auth',
    fields: [
      { name: 'username', label: 'Username', kind: 'text' },
      { name: 'password', label: 'Password', kind: 'secret' },
    ],
  },
];

export function providerOf(type: string): ProviderInfo {
  return PROVIDERS.find((p) => p.type === type) ?? (PROVIDERS[0] as ProviderInfo);
}

export interface SourceFormState {
  name: string;
  provider: string;
  /** Field values of the chosen provider, by field name. */
  values: Record<string, string | boolean>;
  /** Empty: the provider's default. */
  eventType: string;
}

export function newSourceForm(provider = 'github'): SourceFormState {
  return { name: '', provider, values: initialValues(provider), eventType: '' };
}

function initialValues(provider: string): Record<string, string | boolean> {
  return Object.fromEntries(providerOf(provider).fields.map((f) => [f.name, f.kind === 'checkbox' ? f.checked === true : '']));
}

/** Another provider: its own fields start empty, so a secret typed for one sender never goes to another. */
export function switchProvider(form: SourceFormState, provider: string): SourceFormState {
  return { ...form, provider, values: initialValues(provider) };
}

/** The create body: the chosen provider's fields only, empty optional ones left out, numbers as numbers. */
export function sourceCreateBody(form: SourceFormState): Record<string, unknown> {
  const info = providerOf(form.provider);
  const verification: Record<string, unknown> = { type: info.type };
  if (info.type === 'header') {
    verification.headers = { [String(form.values.headerName ?? '').trim()]: String(form.values.headerValue ?? '') };
  } else {
    for (const field of info.fields) {
      const value = form.values[field.name];
      if (field.kind === 'checkbox') verification[field.name] = value === true;
      else if (typeof value === 'string' && value.trim() === '' && field.optional) continue;
      else if (field.kind === 'number') verification[field.name] = Number(value);
      else if (field.kind === 'textarea') verification[field.name] = String(value ?? '').replace(/\s+/g, '');
      else verification[field.name] = field.kind === 'secret' ? String(value ?? '') : String(value ?? '').trim();
    }
  }
  return { name: form.name.trim(), verification, ...(form.eventType.trim() ? { eventType: form.eventType.trim() } : {}) };
}

/** A provider's label for a stored type ("GitHub"), or the type itself. */
export function providerLabel(type: string): string {
  return PROVIDERS.find((p) => p.type === type)?.label ?? type;
}
