import express from 'express';
import { pino, type Logger } from 'pino';

import { buildCanvasAccounts } from './canvas-oauth-accounts.js';
import { createCanvasOAuthRouter } from './canvas-oauth.js';
import { createControlRouter } from './control.js';
import { DEMO_PATIENTS } from './demo-data.js';
import {
  FaultRegistry,
  faultSettingsByUpstreamSchema,
  type FaultSettingsByUpstream,
} from './faults.js';
import { createFedexRouter } from './fedex.js';
import { createFhirRouter } from './fhir.js';
import { FhirEngine } from './fhir-engine.js';
import { seedFhirServer } from './fhir-seed.js';
import { assertPortalOrigin, deliverMagicLinks } from './magic-links.js';
import { createMailViewerRouter } from './mail-viewer.js';
import { createMapTileRouter } from './map-tiles.js';
import { Mailbox } from './mailbox.js';
import { createSendGridRouter } from './sendgrid.js';
import { CallCounters } from './stats.js';
import { createZoomRouter } from './zoom.js';

export { UNKNOWN_PATIENT_ID } from './canvas-oauth-accounts.js';
export { DEMO_PATIENTS, FIXTURE_PATIENT, type DemoPatient } from './demo-data.js';
export {
  faultSettingsByUpstreamSchema,
  type FaultSettings,
  type FaultSettingsByUpstream,
  type UpstreamName,
} from './faults.js';

export interface SandboxOptions {
  /** Client id that the FHIR token endpoint accepts. */
  fhirClientId: string;
  /** Client secret that the FHIR token endpoint accepts. */
  fhirClientSecret: string;
  /** API key that the SendGrid stand-in accepts as `Authorization: Bearer <key>`. */
  sendgridApiKey: string;
  /** Client id that the FedEx token endpoint accepts. */
  fedexClientId: string;
  /** Client secret that the FedEx token endpoint accepts. */
  fedexClientSecret: string;
  /** Account id that the Zoom token endpoint accepts in `account_id`. */
  zoomAccountId: string;
  /** Client id that the Zoom token endpoint accepts in HTTP Basic authentication. */
  zoomClientId: string;
  /** Client secret that the Zoom token endpoint accepts in HTTP Basic authentication. */
  zoomClientSecret: string;
  /** Client id that the Canvas OAuth authorization and token endpoints accept. */
  canvasOauthClientId: string;
  /** Client secret that the Canvas OAuth token endpoint accepts. */
  canvasOauthClientSecret: string;
  /**
   * Origin of the portal, such as `http://localhost:3000`, for the magic links
   * `<portalOrigin>/auth/canvas?login_hint=<patient id>` in the emails put into the mailbox.
   */
  portalOrigin: string;
  /** Initial faults, e.g. parsed from SANDBOX_FAULTS with faultSettingsByUpstreamSchema. */
  faults?: FaultSettingsByUpstream;
  /** Logger for start-up, fault changes and errors. If omitted, a pino logger named `sandbox`. */
  logger?: Logger;
}

export interface Sandbox {
  /**
   * Router to mount at `/sandbox` on the portal's Express app. It parses its own request bodies.
   */
  router: express.Router;
}

/**
 * Creates the stand-ins for the portal's upstreams, each with fresh in-memory state. The router
 * serves the Canvas FHIR API at `/fhir`, seeded with demo data and the official FHIR R4 examples,
 * SendGrid at `/sendgrid`, FedEx Track API v1 at `/fedex` and Zoom's OAuth and Meetings API at
 * `/zoom`, and Canvas's OAuth 2.0 authorization-code flow for single sign-on at `/canvas-oauth`.
 * It also serves the captured-mail viewer at `/mail`, which starts with one magic-link email per
 * demo patient, generated map tiles at `/map-tiles`, and fault and call-count control at
 * `/faults` and `/stats`.
 * Rejects if a credential is empty, `portalOrigin` is not an origin, the initial faults are
 * invalid or seeding fails.
 */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const credentialNames = [
    'fhirClientId',
    'fhirClientSecret',
    'sendgridApiKey',
    'fedexClientId',
    'fedexClientSecret',
    'zoomAccountId',
    'zoomClientId',
    'zoomClientSecret',
    'canvasOauthClientId',
    'canvasOauthClientSecret',
  ] as const;
  for (const name of credentialNames) {
    if (!options[name]) {
      throw new Error(
        `createSandbox: ${name} is empty. Pass the value that the portal's client sends.`,
      );
    }
  }
  assertPortalOrigin(options.portalOrigin);

  const logger = options.logger ?? pino({ name: 'sandbox' });
  const faults = new FaultRegistry(faultSettingsByUpstreamSchema.parse(options.faults ?? {}));
  const counters = new CallCounters({
    fhir: ['tokenRequests'],
    fedex: ['tokenRequests'],
    zoom: ['tokenRequests'],
    'canvas-oauth': ['tokenRequests'],
  });
  const mailbox = new Mailbox();
  deliverMagicLinks(mailbox, options.portalOrigin, DEMO_PATIENTS, new Date());

  const engine = new FhirEngine();
  const seedCounts = await seedFhirServer(engine, new Date());
  logger.info({ seeded: seedCounts }, 'sandbox FHIR server seeded');
  const canvasAccounts = await buildCanvasAccounts(engine);

  const router = express.Router();
  router.use(
    '/fhir',
    createFhirRouter({
      engine,
      credentials: { clientId: options.fhirClientId, clientSecret: options.fhirClientSecret },
      faults,
      counters,
      logger,
    }),
  );
  router.use(
    '/sendgrid',
    createSendGridRouter({ apiKey: options.sendgridApiKey, mailbox, faults, counters, logger }),
  );
  router.use(
    '/fedex',
    createFedexRouter({
      clientId: options.fedexClientId,
      clientSecret: options.fedexClientSecret,
      faults,
      counters,
      logger,
    }),
  );
  router.use(
    '/zoom',
    createZoomRouter({
      accountId: options.zoomAccountId,
      clientId: options.zoomClientId,
      clientSecret: options.zoomClientSecret,
      faults,
      counters,
      logger,
    }),
  );
  router.use(
    '/canvas-oauth',
    createCanvasOAuthRouter({
      clientId: options.canvasOauthClientId,
      clientSecret: options.canvasOauthClientSecret,
      accounts: canvasAccounts,
      magicLinkPatients: DEMO_PATIENTS,
      mailbox,
      portalOrigin: options.portalOrigin,
      faults,
      counters,
      logger,
    }),
  );
  router.use('/mail', createMailViewerRouter(mailbox));
  router.use('/map-tiles', createMapTileRouter());
  router.use(createControlRouter({ faults, counters, logger }));

  return { router };
}
