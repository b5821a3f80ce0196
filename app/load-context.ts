import 'react-router';

declare module 'react-router' {
  /** Per-request values server.ts passes to every loader and action. */
  interface AppLoadContext {
    /** Client address as Express derives it (honours `trust proxy`). */
    clientIp: string;
    /** Id of this request in the logs, also sent back as `X-Request-Id`. */
    requestId: string;
    /** Nonce of this response's Content-Security-Policy, carried by every script the page runs. */
    cspNonce: string;
  }
}
