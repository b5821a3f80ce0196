import { SANDBOX_CREDENTIALS } from '../../app/config/env.server';

/**
 * Returns the settings that point a portal's FHIR, SendGrid, FedEx and Zoom clients at the
 * sandbox of the portal at `sandboxOrigin`, so several portals share one set of upstream data
 * and one mailbox.
 */
export function sandboxUpstreamSettings(sandboxOrigin: string): Record<string, string> {
  return {
    CANVAS_FHIR_BASE_URL: `${sandboxOrigin}/sandbox/fhir`,
    CANVAS_TOKEN_URL: `${sandboxOrigin}/sandbox/fhir/auth/token/`,
    CANVAS_CLIENT_ID: SANDBOX_CREDENTIALS.fhirClientId,
    CANVAS_CLIENT_SECRET: SANDBOX_CREDENTIALS.fhirClientSecret,
    SENDGRID_API_KEY: SANDBOX_CREDENTIALS.sendgridApiKey,
    SENDGRID_BASE_URL: `${sandboxOrigin}/sandbox/sendgrid`,
    MAIL_FROM: 'portal@sandbox.example.com',
    FEDEX_API_BASE_URL: `${sandboxOrigin}/sandbox/fedex`,
    FEDEX_CLIENT_ID: SANDBOX_CREDENTIALS.fedexClientId,
    FEDEX_CLIENT_SECRET: SANDBOX_CREDENTIALS.fedexClientSecret,
    ZOOM_API_BASE_URL: `${sandboxOrigin}/sandbox/zoom/v2`,
    ZOOM_OAUTH_URL: `${sandboxOrigin}/sandbox/zoom/oauth/token`,
    ZOOM_ACCOUNT_ID: SANDBOX_CREDENTIALS.zoomAccountId,
    ZOOM_CLIENT_ID: SANDBOX_CREDENTIALS.zoomClientId,
    ZOOM_CLIENT_SECRET: SANDBOX_CREDENTIALS.zoomClientSecret,
  };
}

/** Returns the settings that point a portal's Canvas sign-on at the sandbox at `sandboxOrigin`. */
export function sandboxCanvasOauthSettings(sandboxOrigin: string): Record<string, string> {
  return {
    CANVAS_OAUTH_AUTHORIZE_URL: `${sandboxOrigin}/sandbox/canvas-oauth/authorize`,
    CANVAS_OAUTH_TOKEN_URL: `${sandboxOrigin}/sandbox/canvas-oauth/token`,
    CANVAS_OAUTH_CLIENT_ID: SANDBOX_CREDENTIALS.canvasOauthClientId,
    CANVAS_OAUTH_CLIENT_SECRET: SANDBOX_CREDENTIALS.canvasOauthClientSecret,
  };
}
