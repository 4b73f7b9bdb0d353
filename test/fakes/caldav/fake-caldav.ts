/**
 * A CalDAV server the tests start (port 0), written from RFC 4791 and RFC 4918 (not from the client): one
 * calendar collection at `/calendars/{user}/personal/` behind HTTP Basic authentication, holding iCalendar
 * objects. It answers what a CalDAV client sends to book in a calendar:
 *
 * - `PROPFIND` (Depth 0) on the collection: a 207 multistatus with `resourcetype` (collection + calendar),
 *   `displayname` and `getctag`; on an unknown path 404.
 * - `REPORT` `calendar-query` (Depth 1) with a `comp-filter` VCALENDAR/VEVENT and an optional `time-range`:
 *   a 207 with each object that has an event overlapping the range (`getetag`, `calendar-data`). Recurring
 *   events (RRULE) are matched by any occurrence (ical.js expands them). `calendar-multiget` with `href`s
 *   answers those objects.
 * - `GET`, `PUT` (`If-None-Match: *` → 412 when the object exists; `If-Match` → 412 on another ETag; the body
 *   must be a VCALENDAR, else 415) and `DELETE` (404 when absent) of `{collection}/{name}.ics`.
 * - Anything without the right credentials: 401 with `WWW-Authenticate: Basic`.
 *
 * Every request is kept in `received` (method, path, depth, body) for tests to look at.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import ICAL from 'ical.js';
import { unawaited } from '../../helpers/unawaited.js';

export interface FakeCaldav {
  url: string;
  /** The calendar collection's URL (trailing slash). */
  calendarUrl: string;
  username: string;
  password: string;
  /** The stored objects by path (`/calendars/alex/personal/x.ics`): their text and ETag. */
  objects: Map<string, { ics: string; etag: string }>;
  received: Array<{ method: string; path: string; depth?: string; body: string }>;
  /** Stores an object as a client would have (e.g. an existing appointment). */
  put(name: string, ics: string): void;
  /** The events stored, parsed: summary and UTC start/end (ISO). */
  events(): Array<{ path: string; uid: string; summary: string; start: string; end: string }>;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startFakeCaldav(username = 'alex', password = 'app-password-1'): Promise<FakeCaldav> {
  const collection = `/calendars/${username}/personal/`;
  const objects = new Map<string, { ics: string; etag: string }>();
  const received: FakeCaldav['received'] = [];
  let version = 0;
  const etag = () => `"${++version}"`;

  const multistatus = (responses: string[]) =>
    `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">${responses.join('')}</d:multistatus>`;
  const objectResponse = (path: string, o: { ics: string; etag: string }) =>
    `<d:response><d:href>${xmlEscape(path)}</d:href><d:propstat><d:prop><d:getetag>${xmlEscape(o.etag)}</d:getetag><c:calendar-data>${xmlEscape(o.ics)}</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;

  /**
   * Whether an object has an event overlapping [start, end) (RFC 4791 §9.9: open ends when not given; a
   * recurring event by any occurrence). Transparency is the client's business: transparent events match too.
   */
  const overlaps = (ics: string, start?: string, end?: string) => {
    const at = (v: string | undefined, none: number) => (v ? Date.parse(v.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')) : none);
    const from = at(start, 0);
    const to = at(end, 8.64e15);
    return new ICAL.Component(ICAL.parse(ics) as unknown[]).getAllSubcomponents('vevent').some((vevent) => {
      const e = new ICAL.Event(vevent);
      const hit = (s: ICAL.Time, f: ICAL.Time) => s.toJSDate().getTime() < to && f.toJSDate().getTime() > from;
      if (!e.isRecurring()) return hit(e.startDate, e.endDate);
      const it = e.iterator();
      for (let n = 0, next = it.next(); next && n < 1000 && next.toJSDate().getTime() < to; n++, next = it.next()) {
        const o = e.getOccurrenceDetails(next);
        if (hit(o.startDate, o.endDate)) return true;
      }
      return false;
    });
  };

  const server = http.createServer((req, res) =>
    unawaited(
      (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks).toString('utf8');
        const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
        const depth = req.headers.depth as string | undefined;
        received.push({ method: req.method ?? '', path, depth, body });
        const send = (code: number, text = '', headers: Record<string, string> = {}) => {
          res.writeHead(code, headers);
          res.end(text);
        };
        const auth = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /i, ''), 'base64').toString();
        if (auth !== `${username}:${password}`) return send(401, 'Unauthorized', { 'www-authenticate': 'Basic realm="fake caldav"' });
        const xml = { 'content-type': 'application/xml; charset=utf-8' };
        const inCollection = path.startsWith(collection) && path.length > collection.length && !path.slice(collection.length).includes('/');

        if (req.method === 'PROPFIND') {
          if (path !== collection && path !== collection.slice(0, -1)) return send(404);
          const props = `<d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Personal</d:displayname><cs:getctag>${version}</cs:getctag>`;
          return send(207, multistatus([`<d:response><d:href>${collection}</d:href><d:propstat><d:prop>${props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`]), xml);
        }
        if (req.method === 'REPORT') {
          if (path !== collection && path !== collection.slice(0, -1)) return send(404);
          if (/calendar-multiget/.test(body)) {
            const hrefs = [...body.matchAll(/<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/g)].map((m) => decodeURIComponent(m[1]));
            return send(207, multistatus(hrefs.filter((h) => objects.has(h)).map((h) => objectResponse(h, objects.get(h)!))), xml);
          }
          if (!/calendar-query/.test(body)) return send(400, 'unsupported report');
          const range = /time-range\s+([^>]*?)\/?>/.exec(body)?.[1] ?? '';
          const start = /start="([^"]+)"/.exec(range)?.[1];
          const end = /end="([^"]+)"/.exec(range)?.[1];
          const hits = [...objects].filter(([, o]) => overlaps(o.ics, start, end));
          return send(207, multistatus(hits.map(([p, o]) => objectResponse(p, o))), xml);
        }
        if (!inCollection) return send(404);
        const existing = objects.get(path);
        if (req.method === 'GET') return existing ? send(200, existing.ics, { 'content-type': 'text/calendar; charset=utf-8', etag: existing.etag }) : send(404);
        if (req.method === 'PUT') {
          if (req.headers['if-none-match'] === '*' && existing) return send(412);
          const ifMatch = req.headers['if-match'];
          if (ifMatch && ifMatch !== existing?.etag) return send(412);
          try {
            if (new ICAL.Component(ICAL.parse(body) as unknown[]).name !== 'vcalendar') return send(415);
          } catch {
            return send(415);
          }
          const tag = etag();
          objects.set(path, { ics: body, etag: tag });
          return send(existing ? 204 : 201, '', { etag: tag });
        }
        if (req.method === 'DELETE') {
          if (!existing) return send(404);
          objects.delete(path);
          return send(204);
        }
        send(405);
      })(),
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calendarUrl: url + collection,
    username,
    password,
    objects,
    received,
    put(name, ics) {
      objects.set(collection + name, { ics, etag: etag() });
    },
    events() {
      const out: ReturnType<FakeCaldav['events']> = [];
      for (const [path, o] of objects) {
        const vevent = new ICAL.Component(ICAL.parse(o.ics) as unknown[]).getFirstSubcomponent('vevent');
        if (!vevent) continue;
        const e = new ICAL.Event(vevent);
        out.push({ path, uid: e.uid, summary: e.summary, start: e.startDate.toJSDate().toISOString(), end: e.endDate.toJSDate().toISOString() });
      }
      return out;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
