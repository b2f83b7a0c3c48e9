/** An accepted event as stored: its payload kept once, as the exact JSON text receivers get. */
export interface StoredEvent {
  id: string;
  subscriberId: string;
  type: string;
  /** JSON text of the payload; the body every receiver gets (Zenduty-scheme endpoints get it re-serialized). */
  payload: string;
  createdAt: number;
}
