import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  NavLink,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteLoaderData,
} from 'react-router';

import { readSessionState } from '~/auth/session.server';
import { SessionTimeoutWarning } from '~/auth/session-timeout-warning';
import { countUnreadNotificationsOnce } from '~/notifications/notifications.server';
import { useNonce } from '~/security/nonce';
import { noteAuthorizedPatient } from '~/security/access-audit.server';
import { revalidateRoot, useRootDataReceivedTime } from '~/root-revalidation';

import type { Route } from './+types/root';
import stylesHref from './styles/app.css?url';

export const links: Route.LinksFunction = () => [
  { rel: 'stylesheet', href: stylesHref },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
];

/**
 * Passes the Retry-After of an error that reaches the root boundary, such as the 503 of an
 * unreachable database, on to the page's response.
 */
export const headers: Route.HeadersFunction = ({ errorHeaders }) => {
  const retryAfter = errorHeaders?.get('retry-after');
  return retryAfter ? { 'retry-after': retryAfter } : new Headers();
};

export async function loader({ request }: Route.LoaderArgs) {
  const state = await readSessionState(request);
  if (state.status !== 'active') {
    return { signedIn: false, unreadNotifications: 0, sessionTimeRemaining: null };
  }
  // The unread count is patient data, so every signed-in page's request gets its audit row.
  noteAuthorizedPatient(request, state.session);
  return {
    signedIn: true,
    unreadNotifications: await countUnreadNotificationsOnce(request, state.session.patientId),
    // Seconds from now, never the session id: the page's JavaScript can read loader data.
    sessionTimeRemaining: state.remaining,
  };
}

export const shouldRevalidate = revalidateRoot;

export function Layout({ children }: { children: React.ReactNode }) {
  const rootData = useRouteLoaderData<typeof loader>('root');
  const signedIn = rootData?.signedIn ?? false;
  const unread = rootData?.unreadNotifications ?? 0;
  const sessionTimeRemaining = rootData?.sessionTimeRemaining ?? null;
  const nonce = useNonce();
  useRootDataReceivedTime(rootData);

  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links nonce={nonce} />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <Link to="/" className="site-name">
            Patient portal
          </Link>
          {signedIn ? (
            <nav aria-label="Main">
              <ul>
                <li>
                  <NavLink to="/" end>
                    Dashboard
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/prescriptions">Prescriptions</NavLink>
                </li>
                <li>
                  <NavLink to="/shipments">Shipments</NavLink>
                </li>
                <li>
                  <NavLink to="/messages">Messages</NavLink>
                </li>
                <li>
                  <NavLink to="/scheduling">Video visits</NavLink>
                </li>
                <li>
                  <NavLink to="/notifications">
                    Notifications
                    {unread > 0 ? ' ' : null}
                    {unread > 0 ? (
                      <span className="badge">
                        {unread}
                        <span className="visually-hidden"> unread</span>
                      </span>
                    ) : null}
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/profile">Profile</NavLink>
                </li>
              </ul>
              <Form method="post" action="/logout">
                <button type="submit" className="link-button">
                  Sign out
                </button>
              </Form>
            </nav>
          ) : null}
        </header>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
        {signedIn && sessionTimeRemaining ? (
          <SessionTimeoutWarning remaining={sessionTimeRemaining} />
        ) : null}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  let title = 'Something went wrong';
  let message = 'The page could not be shown. Please try again in a moment.';

  if (isRouteErrorResponse(error) && error.status === 404) {
    title = 'Page not found';
    message = 'There is no page at this address.';
  }
  if (isRouteErrorResponse(error) && error.status === 503) {
    title = 'Temporarily unavailable';
    message = 'The portal is temporarily unavailable. Please try again in a minute.';
  }
  // A loader may throw data({ message }) with text written for the patient.
  const patientMessage = isRouteErrorResponse(error)
    ? (error.data as { message?: unknown } | null)?.message
    : undefined;
  if (typeof patientMessage === 'string') message = patientMessage;

  return (
    <>
      <title>{`${title} | Patient portal`}</title>
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <Link to="/">Go to your dashboard</Link>
      </p>
    </>
  );
}
