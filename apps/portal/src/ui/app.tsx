import { useEffect, useMemo, useState } from 'preact/hooks';
import type { EventTypeInfo } from '../lib/api-types';
import { href, parseRoute, type Route } from '../lib/route';
import { timeLeft } from '../lib/session-link';
import { createApi, portalConfig, setUnauthorizedHandler, whoAmI, type Api } from './api-client';
import { PageHeading } from './common';
import { DeliveriesView } from './deliveries-view';
import { DeliveryDetail } from './delivery-detail';
import { EndpointDetail } from './endpoint-detail';
import { EndpointFormView } from './endpoint-form-view';
import { EndpointsView } from './endpoints-view';
import { CatalogView } from './catalog-view';
import { EventDetail } from './event-detail';
import { EventsView } from './events-view';
import { useNow } from './hooks';
import { LinkExpiredPage, SignedOutPage } from './link-pages';
import { PortalContext } from './portal-context';
import { ChooseSubscriber, SignIn } from './sign-in';
import { SourceDetail } from './source-detail';
import { SourceFormView } from './source-form-view';
import { SourcesView } from './sources-view';
import { StorageNotice } from './storage-notice';
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

/** Where the portal stands when not simply signed in: opening a link, its end, signing out of one. */
type Gate = 'opening-link' | 'link-expired' | 'signed-out' | null;

export function App({ opened }: { opened: { token: string | null } | null }) {
  const [session, setSession] = useState<Session | null>(() => (opened ? null : loadSession()));
  const [gate, setGate] = useState<Gate>(opened ? 'opening-link' : null);
  const [choosing, setChoosing] = useState(false);
  const [platformName, setPlatformName] = useState<string | null>(null);
  const route = useRoute();
  const api = useMemo(() => (session ? createApi(session.key, session.subscriberId) : null), [session?.key, session?.subscriberId]);
  const [catalog, setCatalog] = useState<EventTypeInfo[]>([]);

  // Read again on every view change: the catalog is live (the operator may add, change or archive
  // types at any time), and the endpoint form, test sends and the catalog page all use it.
  useEffect(() => {
    void portalConfig().then((c) => setPlatformName(c.platformName));
  }, []);

  /** A link's session, or an expiry page when the API does not take its token (expired, revoked, never issued). */
  useEffect(() => {
    if (!opened) return;
    clearSession();
    if (!opened.token) return setGate('link-expired');
    const token = opened.token;
    whoAmI(token).then(
      (me) => {
        if (me.role !== 'session' || !me.subscriberId || !me.session) return setGate('link-expired');
        const s: Session = {
          key: token,
          subscriberId: me.subscriberId,
          subscriberName: me.subscriberName ?? undefined,
          admin: false,
          link: { sessionId: me.session.id, expiresAt: me.session.expiresAt, readOnly: me.session.readOnly },
        };
        saveSession(s);
        setSession(s);
        setGate(null);
      },
      () => setGate('link-expired'),
    );
  }, [opened]);

  const endLink = () => {
    clearSession();
    setSession(null);
    setCatalog([]);
    setGate('link-expired');
  };

  // A link ends at its time, whether or not a request notices: the page changes then, not on the next error.
  useEffect(() => {
    const expiresAt = session?.link?.expiresAt;
    if (expiresAt === undefined) return;
    const t = setTimeout(endLink, Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)));
    return () => clearTimeout(t);
  }, [session?.link?.expiresAt]);

  // A 401 for the key in use: a link has ended (expired or revoked); a key was revoked.
  useEffect(() => {
    setUnauthorizedHandler((key) => {
      if (!session || key !== session.key) return;
      if (session.link) endLink();
      else signOut();
    });
    return () => setUnauthorizedHandler(null);
  }, [session]);

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
    setGate(null);
    location.hash = href({ name: 'endpoints' });
  };
  function signOut() {
    const link = session?.link;
    if (link && api) void api.endSession(link.sessionId).catch(() => undefined);
    clearSession();
    setSession(null);
    setCatalog([]);
    setGate(link ? 'signed-out' : null);
    location.hash = '';
  }

  if (gate === 'opening-link')
    return (
      <main id="main" class="narrow">
        <p role="status">Opening your link…</p>
      </main>
    );
  if (gate === 'link-expired') return <LinkExpiredPage platformName={platformName} />;
  if (gate === 'signed-out') return <SignedOutPage platformName={platformName} onSignIn={() => setGate(null)} />;
  if (!session || !api) return <SignIn onSignedIn={signIn} />;
  if (choosing) return <ChooseSubscriber adminKey={session.key} onChosen={signIn} onCancel={() => setChoosing(false)} />;

  const section = route.name.startsWith('deliver')
    ? 'deliveries'
    : route.name === 'catalog'
      ? 'catalog'
      : route.name.startsWith('event')
        ? 'events'
        : route.name.startsWith('source')
          ? 'sources'
          : 'endpoints';
  return (
    <PortalContext.Provider value={{ readOnly: session.link?.readOnly === true }}>
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
          <a href={href({ name: 'events' })} aria-current={section === 'events' ? 'page' : undefined}>
            Events
          </a>
          <a href={href({ name: 'catalog' })} aria-current={section === 'catalog' ? 'page' : undefined}>
            Event types
          </a>
          <a href={href({ name: 'sources' })} aria-current={section === 'sources' ? 'page' : undefined}>
            Sources
          </a>
        </nav>
        <div class="who">
          <span class="subscriber" title={session.subscriberId}>
            {session.subscriberName ?? session.subscriberId}
            {session.admin && <span class="muted"> (admin)</span>}
          </span>
          {session.link && <LinkClock expiresAt={session.link.expiresAt} readOnly={session.link.readOnly} />}
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
      <StorageNotice api={api} page={route.name} />
      <View route={route} api={api} catalog={catalog} />
    </PortalContext.Provider>
  );
}

/** How long a link has left, and whether it is read-only. */
function LinkClock({ expiresAt, readOnly }: { expiresAt: number; readOnly: boolean }) {
  const now = useNow(expiresAt - Date.now() < 120_000 ? 1000 : 15_000);
  return (
    <span class="link-clock" data-expires-at={expiresAt}>
      {readOnly && <span class="badge badge-readonly">read-only</span>}{' '}
      <span class="muted">Link expires in {timeLeft(expiresAt, now)}</span>
    </span>
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
    case 'events':
      return <EventsView api={api} type={route.type} catalog={catalog} />;
    case 'event':
      return <EventDetail key={route.id} api={api} id={route.id} />;
    case 'sources':
      return <SourcesView api={api} />;
    case 'source-new':
      return <SourceFormView api={api} />;
    case 'source':
      return <SourceDetail key={route.id} api={api} id={route.id} outcome={route.outcome} />;
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
