/**
 * The OAuth 2.0 web-server flow with Google (consent URL, code exchange, refresh, revoke) through
 * google-auth-library's OAuth2Client, pointed at configurable endpoints so tests run against a fake.
 */
import type { OAuth2Client } from 'google-auth-library';
import type { Config } from '../../../config/index.js';

/** Read and write access to the user's calendars (001's status example shows this scope). */
export const GOOGLE_CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';

/** Refresh an access token this long before it expires, so that no request goes out with a stale one. */
export const EAGER_REFRESH_MS = 5 * 60_000;

/**
 * A client for the configured endpoints. google-auth-library is loaded on first use: most servers never
 * connect a calendar, and it is among the heaviest packages to load at start-up.
 */
export async function googleOAuthClient(google: NonNullable<Config['google']>): Promise<OAuth2Client> {
  const { OAuth2Client } = await import('google-auth-library');
  return new OAuth2Client({
    clientId: google.clientId,
    clientSecret: google.clientSecret,
    redirectUri: google.redirectUri,
    eagerRefreshThresholdMillis: EAGER_REFRESH_MS,
    endpoints: {
      oauth2AuthBaseUrl: `${google.oauthBaseUrl}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${google.tokenBaseUrl}/token`,
      oauth2RevokeUrl: `${google.tokenBaseUrl}/revoke`,
    },
  });
}

/** The consent page: offline access and a fresh consent, so that Google returns a refresh token every time. */
export function consentUrl(client: OAuth2Client, state: string): string {
  return client.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    include_granted_scopes: true,
    scope: [GOOGLE_CALENDAR_SCOPE],
    state,
  });
}
