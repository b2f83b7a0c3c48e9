/**
 * The sample payload from Zenduty's "Outgoing Webhooks Integration Guide", as JSON text (the guide prints it as
 * a Python dict, with None and trailing commas), and what Python 3.11's json.dumps makes of it.
 */
export const ZENDUTY_SAMPLE_JSON = JSON.stringify({
  payload: {
    event_type: 'triggered',
    incident: {
      summary: 'test summary example',
      incident_number: 60,
      creation_date: '2019-06-07T22:47:28.431949Z',
      status: 1,
      unique_id: 'pprkCF8ghaUcFMFT',
      title: 'Webhook Test Title',
      incident_key: '8Di7LnwobtX4qCb7n',
      service: {
        name: 'Payments',
        creation_date: '2019-03-14T08:36:51.064063Z',
        summary: 'Test summary',
        description: 'Test description',
        unique_id: '9ea1cd16-22fe-45c9-a22d-b74f95305b6d',
        auto_resolve_timeout: 0,
        created_by: 'a80cde9a-3e6a-48de-8a98-1',
        acknowledgement_timeout: 0,
        status: 1,
        escalation_policy: '5fac37b562834cdaadda2429b1a04f22',
        team: '910825254a64446fae1fb94744ab343b',
      },
      priority: 1,
      urgency: 1,
      merged_with: null,
      assigned_to: {
        username: 'a80cde9a-3e6a-48de-8a98-1',
        first_name: 'TestFirstName',
        last_name: 'TestLastName',
        email: 'test@test.com',
      },
      resolved_date: null,
      acknowledged_date: null,
      context_window_start: null,
      context_window_end: null,
    },
  },
});

// Copied from `python3 -c 'import json; print(json.dumps(data))'` with the guide's dict.
export const ZENDUTY_SAMPLE_PYTHON_DUMPS =
  '{"payload": {"event_type": "triggered", "incident": {"summary": "test summary example", "incident_number": 60, ' +
  '"creation_date": "2019-06-07T22:47:28.431949Z", "status": 1, "unique_id": "pprkCF8ghaUcFMFT", ' +
  '"title": "Webhook Test Title", "incident_key": "8Di7LnwobtX4qCb7n", "service": {"name": "Payments", ' +
  '"creation_date": "2019-03-14T08:36:51.064063Z", "summary": "Test summary", "description": "Test description", ' +
  '"unique_id": "9ea1cd16-22fe-45c9-a22d-b74f95305b6d", "auto_resolve_timeout": 0, ' +
  '"created_by": "a80cde9a-3e6a-48de-8a98-1", "acknowledgement_timeout": 0, "status": 1, ' +
  '"escalation_policy": "5fac37b562834cdaadda2429b1a04f22", "team": "910825254a64446fae1fb94744ab343b"}, ' +
  '"priority": 1, "urgency": 1, "merged_with": null, "assigned_to": {"username": "a80cde9a-3e6a-48de-8a98-1", ' +
  '"first_name": "TestFirstName", "last_name": "TestLastName", "email": "test@test.com"}, "resolved_date": null, ' +
  '"acknowledged_date": null, "context_window_start": null, "context_window_end": null}}}';

/** A Zenduty-shaped payload with what the sample lacks: non-ASCII text, an emoji, floats of both repr forms. */
export const ZENDUTY_UNICODE_JSON = JSON.stringify({
  payload: {
    event_type: 'acknowledged',
    incident: {
      summary: 'Débit échoué — 😀 «paiement»\nline two',
      incident_number: 61,
      status: 2,
      cpu: 99.95,
      error_rate: 1.5e-7,
      threshold: 0.0001,
      huge: 1e21,
      assigned_to: null,
    },
  },
});
