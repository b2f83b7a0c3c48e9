import { render } from 'preact';
import { isSessionFragment, sessionTokenFromFragment } from '../lib/session-link';
import { App } from './app';
import './styles.css';

// A portal session link (`/portal#session=<token>`): the token leaves the address bar before
// anything renders, so it stays out of history, bookmarks and screenshots. A mangled one is cleared
// too, and treated as a link that no longer works.
const opened = isSessionFragment(location.hash) ? { token: sessionTokenFromFragment(location.hash) } : null;
if (opened) history.replaceState(null, '', `${location.pathname}${location.search}#/endpoints`);

render(<App opened={opened} />, document.getElementById('app')!);
