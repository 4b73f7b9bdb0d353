/** People at the dashboard: users, sign-in sessions and invitations (issue 12 §4; docs/dashboard.md). */
export { Users, ROLES, INVITABLE_ROLES, canManage, checkEmail, userView, type Role, type UserView } from './users.js';
export { DashboardSessions, type SessionAuth } from './sessions.js';
export { Invitations } from './invitations.js';
