import { useState } from 'preact/hooks';

/**
 * A signing secret shown once, right after it was made (a new endpoint, a rotation), with a copy
 * button. It is not kept anywhere: once the person leaves the page it is gone from it, and
 * reading it again takes "Reveal secret".
 */
export function SecretOnce({ secret, title }: { secret: string; title: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      // No clipboard permission (an old browser, an iframe): select it for a manual copy.
      const input = document.getElementById('secret-once-value') as HTMLInputElement | null;
      input?.select();
      setCopied('failed');
    }
  }
  return (
    <section class="secret-once" aria-labelledby="secret-once-h">
      <h2 id="secret-once-h">{title}</h2>
      <div class="copy-row">
        <label for="secret-once-value" class="visually-hidden">
          Signing secret
        </label>
        <input id="secret-once-value" class="secret" readOnly value={secret} spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="primary" onClick={copy}>
          Copy
        </button>
      </div>
      <p class="secret-once-note">
        <strong>Copy it now: you will not see this again here.</strong> Your receiver needs it to check signatures. Later it is only behind
        “Reveal secret”.
      </p>
      <p role="status" class="hint">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'failed'
            ? 'Could not reach the clipboard: the secret is selected, copy it with Ctrl+C or ⌘C.'
            : ''}
      </p>
    </section>
  );
}
