import { DEFAULT_RETRY_POLICY, DEFAULT_SIGNATURE, DEFAULT_TIMEOUT_MS, newId, type Endpoint, type StoredEvent } from '@hookrelay/contracts';

/** An endpoint with production defaults, ready to store; override what a test is about. */
export function buildEndpoint(overrides: Partial<Endpoint> & Pick<Endpoint, 'url'>): Endpoint {
  const now = Date.now();
  return {
    id: newId('ep'),
    subscriberId: 'sub_test',
    description: '',
    eventTypes: ['*'],
    signature: { ...DEFAULT_SIGNATURE },
    secret: 'test-secret-0123456789abcdef',
    previousSecrets: [],
    headers: {},
    retry: { ...DEFAULT_RETRY_POLICY },
    timeoutMs: DEFAULT_TIMEOUT_MS,
    status: 'active',
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function buildEvent(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: newId('evt'),
    subscriberId: 'sub_test',
    type: 'incident.triggered',
    payload: JSON.stringify({ payload: { event_type: 'triggered', incident: { incident_number: 60, title: 'Disk full' } } }),
    createdAt: Date.now(),
    ...overrides,
  };
}
