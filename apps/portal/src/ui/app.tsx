import { useEffect, useMemo, useState } from 'preact/hooks';
import type { EventTypeInfo } from '../lib/api-types';
import { href, parseRoute, type Route } from '../lib/route';
import { createApi, type Api } from './api-client';
import { PageHeading } from './common';
import { DeliveriesView } from './deliveries-view';
import { DeliveryDetail } from './delivery-detail';
import { EndpointDetail } from './endpoint-detail';
import { EndpointFormView } from './endpoint-form-view';
import { EndpointsView } from './endpoints-view';
import { CatalogView } from './catalog-view';
import { ChooseSubscriber, SignIn } from './sign-in';
import { clearSession, loadSession, saveSession, type Session } from './session';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [choosing, setChoosing] = useState(false);
  const route = useRoute();
  const api = useMemo(() => (session ? createApi(session.key, session.subscriberId) : null), [session?.key, session?.subscriberId]);
  const [catalog, setCatalog] = useState<EventTypeInfo[]>([]);

  // Read again on every view change: the catalog is live (the operator may add, change or archive
  // types at any time), and the endpoint form, test sends and the catalog page all use it.
  useEffect(() => {
    if (!api) return;
    api.eventTypes().then(
      (r) => setCatalog(r.data),
      () => setCatalog([]),
    );
  }, [api, route.name]);

  const signIn = (s: Session) => {
    saveSession(s);
    setSession(s);
    setChoosing(false);
    location.hash = href({ name: 'endpoints' });
  };
  const signOut = () => {
    clearSession();
    setSession(null);
    setCatalog([]);
    location.hash = '';
  };

  if (!session || !api) return <SignIn onSignedIn={signIn} />;
  if (choosing) return <ChooseSubscriber adminKey={session.key} onChosen={signIn} onCancel={() => setChoosing(false)} />;

  const section = route.name.startsWith('deliver') ? 'deliveries' : route.name === 'catalog' ? 'catalog' : 'endpoints';
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.querySelector<HTMLElement>('main h1')?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Hookrelay</span>
        <nav aria-label="Main">
          <a href={href({ name: 'endpoints' })} aria-current={section === 'endpoints' ? 'page' : undefined}>
            Endpoints
          </a>
          <a href={href({ name: 'deliveries', filter: {} })} aria-current={section === 'deliveries' ? 'page' : undefined}>
            Deliveries
          </a>
          <a href={href({ name: 'catalog' })} aria-current={section === 'catalog' ? 'page' : undefined}>
            Event types
          </a>
        </nav>
        <div class="who">
          <span class="subscriber" title={session.subscriberId}>
            {session.subscriberName ?? session.subscriberId}
            {session.admin && <span class="muted"> (admin)</span>}
          </span>
          {session.admin && (
            <button type="button" class="link-button" onClick={() => setChoosing(true)}>
              Switch subscriber
            </button>
          )}
          <button type="button" class="link-button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <View route={route} api={api} catalog={catalog} />
    </>
  );
}

function View({ route, api, catalog }: { route: Route; api: Api; catalog: EventTypeInfo[] }) {
  switch (route.name) {
    case 'endpoints':
      return <EndpointsView api={api} />;
    case 'endpoint-new':
      return <EndpointFormView api={api} catalog={catalog} />;
    case 'endpoint':
      return <EndpointDetail key={route.id} api={api} id={route.id} catalog={catalog} />;
    case 'endpoint-edit':
      return <EndpointFormView key={route.id} api={api} id={route.id} catalog={catalog} />;
    case 'deliveries':
      return <DeliveriesView api={api} filter={route.filter} catalog={catalog} />;
    case 'delivery':
      return <DeliveryDetail key={route.id} api={api} id={route.id} />;
    case 'catalog':
      return <CatalogView catalog={catalog} />;
    case 'not-found':
      return (
        <main id="main">
          <PageHeading>Page not found</PageHeading>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href={href({ name: 'endpoints' })}>Go to your endpoints</a>.
          </p>
        </main>
      );
  }
}
