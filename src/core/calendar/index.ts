/** Calendar connections and the agent's calendar requests (docs/calendar.md). */
export { CalendarConnections, STATE_TTL_MS, type CalendarStatus, type CalendarGrantOwner } from './connections.js';
export { CalendarError, freeSlots, type Calendar, type BusyInterval, type CalendarEvent, type EventInput } from './calendar.js';
export { runCalendarRequest, bookingSentences, type CalendarRequest, type CalendarBooking, type CalendarOutcome, type CalendarCallContext } from './agent-requests.js';
export { callTimeZone, formatInZone, parseTime, instantOf, localTimeOf, isTimeZone } from './time-zone.js';
export { GOOGLE_CALENDAR_SCOPE } from './google/google-oauth.js';
