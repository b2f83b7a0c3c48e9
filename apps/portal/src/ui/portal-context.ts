import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** What every view may need to know about who is signed in, beyond the API client. */
export interface PortalContextValue {
  /** A read-only portal session: the API refuses every change (403), so the views offer none. */
  readOnly: boolean;
}

export const PortalContext = createContext<PortalContextValue>({ readOnly: false });

export function useReadOnly(): boolean {
  return useContext(PortalContext).readOnly;
}
