import type {
  ActionFunctionArgs,
  AppLoadContext,
  EntryContext,
  LoaderFunctionArgs,
  ServerInstrumentation,
} from 'react-router';
import { createReadableStreamFromReadable } from '@react-router/node';
import { ServerRouter } from 'react-router';
import { isbot } from 'isbot';
import type { RenderToPipeableStreamOptions } from 'react-dom/server';
import { renderToPipeableStream } from 'react-dom/server';

import { runWithUpstreamBudget } from '~/clients/upstream-deadline.server';
import { getEnv } from '~/config/env.server';
import { createBatchingStream } from '~/http/batching-stream.server';
import { clearRequestMemo, runWithRequestMemo } from '~/http/request-memo.server';
import { documentContentSecurityPolicy } from '~/security/content-security-policy.server';
import { NonceContext } from '~/security/nonce';
import { getLogger } from '~/utils/logger.server';

export const streamTimeout = 5_000;

/**
 * Gives each request one upstream budget shared by all its loaders, its action and their
 * upstream calls, so a slow upstream cannot hold a page longer than UPSTREAM_BUDGET_MS. Also
 * gives it one memo for reads its loaders share, emptied after its action.
 */
export const instrumentations: ServerInstrumentation[] = [
  {
    handler(handler) {
      handler.instrument({
        async request(handleRequest) {
          await runWithRequestMemo(() => runWithUpstreamBudget(handleRequest));
        },
      });
    },
    route(route) {
      route.instrument({
        async action(runAction) {
          try {
            await runAction();
          } finally {
            clearRequestMemo();
          }
        },
      });
    },
  },
];

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  routerContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const nonce = loadContext.cspNonce;
  const env = getEnv();
  responseHeaders.set(
    'Content-Security-Policy',
    documentContentSecurityPolicy(nonce, {
      development: !env.isProduction,
      mapTileSource: env.mapTiles.imageSource,
    }),
  );

  // https://httpwg.org/specs/rfc9110.html#HEAD
  if (request.method.toUpperCase() === 'HEAD') {
    return new Response(null, {
      status: responseStatusCode,
      headers: responseHeaders,
    });
  }

  return new Promise((resolve, reject) => {
    let shellRendered = false;
    const userAgent = request.headers.get('user-agent');

    // Ensure requests from bots and SPA Mode renders wait for all content to load before responding
    // https://react.dev/reference/react-dom/server/renderToPipeableStream#waiting-for-all-content-to-load-for-crawlers-and-static-generation
    const readyOption: keyof RenderToPipeableStreamOptions =
      (userAgent && isbot(userAgent)) || routerContext.isSpaMode ? 'onAllReady' : 'onShellReady';

    // Abort the rendering stream after the `streamTimeout` so it has time to
    // flush down the rejected boundaries
    let timeoutId: ReturnType<typeof setTimeout> | undefined = setTimeout(
      () => abort(),
      streamTimeout + 1000,
    );

    const { pipe, abort } = renderToPipeableStream(
      <NonceContext value={nonce}>
        <ServerRouter context={routerContext} url={request.url} nonce={nonce} />
      </NonceContext>,
      {
        nonce,
        [readyOption]() {
          shellRendered = true;
          const body = createBatchingStream(() => {
            // Clear the timeout to prevent retaining the closure and memory leak
            clearTimeout(timeoutId);
            timeoutId = undefined;
          });
          const stream = createReadableStreamFromReadable(body);

          responseHeaders.set('Content-Type', 'text/html');

          pipe(body);

          resolve(
            new Response(stream, {
              headers: responseHeaders,
              status: responseStatusCode,
            }),
          );
        },
        onShellError(error: unknown) {
          reject(error instanceof Error ? error : new Error(String(error)));
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          // Log streaming rendering errors from inside the shell.  Don't log
          // errors encountered during initial shell rendering since they'll
          // reject and get logged in handleDocumentRequest.
          if (shellRendered) {
            getLogger().error(
              { path: new URL(request.url).pathname, err: describeError(error) },
              'streamed render failed',
            );
          }
        },
      },
    );
  });
}

/**
 * Logs an error React Router caught in a loader, action or render as one JSON line with the
 * request path and id, never the query string or body. Aborted requests are the client's doing.
 */
export function handleError(
  error: unknown,
  { request }: LoaderFunctionArgs | ActionFunctionArgs,
): void {
  if (request.signal.aborted) return;

  getLogger().error(
    {
      requestId: request.headers.get('x-request-id') ?? undefined,
      path: new URL(request.url).pathname,
      err: describeError(error),
    },
    'request failed',
  );
}

function describeError(error: unknown): Record<string, string | undefined> {
  if (error instanceof Error)
    return { name: error.name, message: error.message, stack: error.stack };
  return { value: String(error) };
}
