import { cloneElement, isValidElement, type ComponentChildren, type VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { DeliveryState, EndpointStatus } from '../lib/api-types';
import { urlBreakPieces } from '../lib/url-breaks';
import { ApiError } from './api-client';

/** An API error as the API words it: its message, then each detail's path and message. */
export function ErrorBanner({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, 'client', (error as Error)?.message ?? String(error));
  return (
    <div class="error" role="alert">
      {title && <strong>{title}: </strong>}
      <span class="error-message">{e.message}</span>
      {e.details.length > 0 && (
        <ul class="error-details">
          {e.details.map((d) => (
            <li key={`${d.path}:${d.message}`}>
              <code>{d.path}</code>: {d.message}
            </li>
          ))}
        </ul>
      )}
      {e.status > 0 && (
        <span class="error-code">
          {' '}
          ({e.code}, HTTP {e.status})
        </span>
      )}
    </div>
  );
}

export function StateBadge({ state }: { state: DeliveryState | EndpointStatus }) {
  return <span class={`badge badge-${state}`}>{state}</span>;
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/**
 * A modal on the native `<dialog>`: the browser traps focus inside, closes it on Escape (the
 * `cancel` event) and we put focus back where it was when it closes.
 */
export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  }, [props.open]);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const onClose = () => {
      (opener.current as HTMLElement | null)?.focus?.();
      props.onClose();
    };
    dialog.addEventListener('close', onClose);
    return () => dialog.removeEventListener('close', onClose);
  }, [props.onClose]);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title">
      {props.open && (
        <div class="dialog-body">
          <h2 id="dialog-title">{props.title}</h2>
          {props.children}
        </div>
      )}
    </dialog>
  );
}

/** A heading that takes focus when its view opens, so keyboard and screen-reader users land on it. */
export function PageHeading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A labelled control; its hint and the API's error for it are tied to the control for screen readers. */
export function Field(props: { label: string; hint?: string; error?: string; children: ComponentChildren; id: string }) {
  const describedBy = [props.hint && `${props.id}-hint`, props.error && `${props.id}-error`].filter(Boolean).join(' ') || undefined;
  const control = isValidElement(props.children)
    ? cloneElement(props.children as VNode<Record<string, unknown>>, {
        'aria-describedby': describedBy,
        'aria-invalid': props.error ? true : undefined,
      })
    : props.children;
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {control}
      {props.hint && (
        <small class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </small>
      )}
      {props.error && (
        <small class="field-error" id={`${props.id}-error`}>
          {props.error}
        </small>
      )}
    </div>
  );
}

/**
 * A URL that wraps after its slashes, dots and `?`/`&`, not in the middle of a word (nor at a
 * hyphen, where a browser would otherwise break it): each piece is kept whole unless it alone is
 * wider than the line.
 */
export function BreakableUrl({ url, class: className }: { url: string; class?: string }) {
  return (
    <span class={`url${className ? ` ${className}` : ''}`}>
      {urlBreakPieces(url).map((piece, i) => (
        <span key={i} class="url-piece">
          {piece}
        </span>
      ))}
    </span>
  );
}
