import { render } from 'preact';
import { App } from './app';
import './style.css';

// 004: /dashboard/index.html?callSid=CA… opens that call.
const sid = new URLSearchParams(location.search).get('callSid');
if (sid && !location.hash) location.hash = `#/calls/${encodeURIComponent(sid)}`;

render(<App />, document.getElementById('app')!);
