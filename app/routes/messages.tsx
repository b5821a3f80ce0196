import { useEffect, useMemo, useRef, useState } from 'react';
import {
  data,
  Link,
  redirect,
  useFetcher,
  useSubmit,
  type ShouldRevalidateFunctionArgs,
} from 'react-router';

import { requirePatientKeepingInput, takeKeptInput } from '~/auth/kept-form-input.server';
import { requirePatient } from '~/auth/session.server';
import { readFormFields, validate } from '~/http/api.server';
import { openConversation, type Conversation } from '~/messages/conversation.server';
import {
  parseShowCount,
  selectNewestMessages,
  type EarlierMessages,
} from '~/messages/conversation-window';
import {
  formatByteSize,
  MESSAGE_MAX_CHARACTERS,
  mergeMessages,
  NO_PRACTITIONER_MESSAGE,
  type ConversationMessage,
  type MessagePart,
} from '~/messages/message';
import { describeMessagingFailure, type MessagingFailure } from '~/messages/message-errors.server';
import { hashRequest, IDEMPOTENCY_KEY_PATTERN } from '~/http/idempotency.server';
import { failureHeaders, forwardRetryAfter } from '~/http/request-failure.server';
import { messageInputSchema, sendMessage } from '~/messages/send-message.server';
import { useConversationPoll } from '~/messages/use-conversation-poll';
import { enforceWriteLimit } from '~/security/write-limits.server';
import { formatInstant } from '~/utils/dates';

import type { Route } from './+types/messages';

export const meta: Route.MetaFunction = () => [{ title: 'Messages | Patient portal' }];

export const headers: Route.HeadersFunction = forwardRetryAfter;

/**
 * Response to "Show earlier messages", which posts the compose form: the draft and its key come
 * back with the longer page. A resend then keeps the key of a send that failed, so it cannot
 * store the message twice.
 */
interface ShownEarlier {
  shownEarlier: true;
  draft: string;
  idempotencyKey: string;
}

/** Response to a failed send: the draft and its key come back, so nothing is lost. */
interface SendFailure {
  draft: string;
  idempotencyKey: string;
  failure: MessagingFailure;
}

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const showCount = parseShowCount(new URL(request.url).searchParams.get('show'));
  if (showCount === undefined) throw data(null, { status: 404 });
  // A fresh key per page view; a failed send keeps its own key, so its retry is the same send.
  const idempotencyKey = crypto.randomUUID();

  try {
    // Opening the page marks the whole conversation read, the hidden earlier messages too, so the
    // dashboard stops counting them. The page states how many of them were new instead.
    const conversation: Conversation = await openConversation(session);
    const newest = selectNewestMessages(conversation.messages, showCount);
    // Taken only when the form can show it; otherwise it waits for a later visit.
    const keptInput = await takeKeptInput(request, session);
    return data(
      {
        conversation: { ...conversation, messages: newest.messages },
        earlier: newest.earlier,
        idempotencyKey,
        unavailable: null,
        keptDraft: keptInput.fields?.text ?? null,
      },
      { headers: keptInput.headers },
    );
  } catch (error) {
    const failure = describeMessagingFailure(error, session.patientId, 'read');
    return data(
      {
        conversation: null,
        earlier: null,
        idempotencyKey,
        unavailable: failure.message,
        keptDraft: null,
      },
      { status: failure.status },
    );
  }
}

export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') throw data(null, { status: 405, headers: { allow: 'GET, POST' } });
  const session = await requirePatientKeepingInput(request, ['text']);

  const fields = await readFormFields(request);
  const draft = fields.text ?? '';
  // A key the page did not make is replaced, so a resend can still go through.
  const submittedKey = IDEMPOTENCY_KEY_PATTERN.test(fields.idempotencyKey ?? '')
    ? (fields.idempotencyKey ?? '')
    : crypto.randomUUID();
  // Sends nothing: the page's loader shows the longer window of the action's URL (`?show=`).
  if (fields.intent === 'show-earlier') {
    return { shownEarlier: true, draft, idempotencyKey: submittedKey } satisfies ShownEarlier;
  }

  try {
    const input = validate(messageInputSchema, { text: draft });
    await enforceWriteLimit(session, 'message');

    const { message } = await sendMessage(session, input, formMessageKey(submittedKey, input.text));

    return redirect(`/messages#message-${message.id}`, 303);
  } catch (error) {
    const failure = describeMessagingFailure(error, session.patientId, 'send');
    return data({ draft, idempotencyKey: submittedKey, failure } satisfies SendFailure, {
      status: failure.status,
      headers: failureHeaders(failure),
    });
  }
}

/**
 * Returns the idempotency key of one form submission: the page's key plus a hash of the text. A
 * double submit of the same text shares the key, and a draft edited after a failure gets its own.
 */
function formMessageKey(pageKey: string, text: string): string {
  return `${pageKey}.${hashRequest(text).slice(0, 16)}`;
}

/** Skips revalidation after a failed send, which changed nothing, so the page keeps its key. */
export function shouldRevalidate({
  actionStatus,
  defaultShouldRevalidate,
}: ShouldRevalidateFunctionArgs) {
  if (actionStatus !== undefined && actionStatus >= 400) return false;
  return defaultShouldRevalidate;
}

export default function Messages({ loaderData, actionData }: Route.ComponentProps) {
  const { conversation, earlier, idempotencyKey, unavailable, keptDraft } = loaderData;
  const sendFailure = actionData && 'failure' in actionData ? actionData : undefined;
  const shownEarlier = actionData && 'shownEarlier' in actionData ? actionData : null;

  return (
    <>
      <h1>Messages</h1>
      {conversation === null ? (
        <>
          <p role="status" className="notice">
            {unavailable}
          </p>
          {sendFailure ? <UnavailableCompose failure={sendFailure} /> : null}
        </>
      ) : (
        <ConversationView
          conversation={conversation}
          earlier={earlier}
          idempotencyKey={idempotencyKey}
          documentFailure={sendFailure}
          keptDraft={keptDraft}
          shownEarlier={shownEarlier}
        />
      )}
    </>
  );
}

function ConversationView({
  conversation,
  earlier,
  idempotencyKey,
  documentFailure,
  keptDraft,
  shownEarlier,
}: {
  /** The newest messages only, with `earlier` describing the rest. */
  conversation: Conversation;
  earlier: EarlierMessages | null;
  idempotencyKey: string;
  documentFailure: SendFailure | undefined;
  /** A draft posted after the session ended, kept across the sign-in. */
  keptDraft: string | null;
  /** The draft and key that "Show earlier messages" posted, which the form keeps. */
  shownEarlier: ShownEarlier | null;
}) {
  const { timeZone, practitioner } = conversation;
  const poll = useConversationPoll(conversation.cursor);
  const fetcher = useFetcher<SendFailure>({ key: 'send-message' });

  // Only a failure for this page's current key counts. An older one belongs to a send that a
  // successful one followed.
  const pageKey = shownEarlier?.idempotencyKey ?? idempotencyKey;
  const fetcherFailure = fetcher.data?.idempotencyKey === pageKey ? fetcher.data : undefined;
  const failure = documentFailure ?? fetcherFailure;
  const formKey = failure?.idempotencyKey || pageKey;

  const submittedText = fetcher.state !== 'idle' ? fetcher.formData?.get('text') : undefined;
  const pendingText = typeof submittedText === 'string' ? submittedText.trim() : '';
  const messages = useMemo(
    // The loader's copy wins: it is newer than a poll's once the page has revalidated.
    () => mergeMessages(poll.messages, conversation.messages),
    [conversation.messages, poll.messages],
  );
  const newFromPoll = poll.messages.filter((message) => message.from === 'care-team');
  const justSent = useSentAnnouncement(fetcher.state, fetcherFailure !== undefined, pageKey);

  return (
    <>
      {practitioner ? (
        <p>
          Your messages go to {practitioner.name} and your care team. For an emergency, call 911.
        </p>
      ) : null}
      {messages.length > 3 ? (
        <p>
          <a href="#compose">Write a message</a>
        </p>
      ) : null}

      {earlier ? (
        <EarlierMessagesLink earlier={earlier} keepsDraft={practitioner !== null} />
      ) : null}

      {messages.length === 0 && !pendingText ? (
        <p>
          {practitioner ? 'No messages yet. Write to your care team below.' : 'No messages yet.'}
        </p>
      ) : (
        <ol className="conversation" aria-label="Conversation with your care team">
          {messages.map((message) => (
            <li
              key={message.id}
              id={`message-${message.id}`}
              className={`message message-${message.from}`}
            >
              <MessageView message={message} timeZone={timeZone} />
            </li>
          ))}
          {pendingText ? (
            <li className="message message-patient message-pending" aria-busy="true">
              <p className="message-meta">
                <span className="message-sender">You</span> · <span>Sending…</span>
              </p>
              <p className="message-text">{pendingText}</p>
            </li>
          ) : null}
        </ol>
      )}

      <p aria-live="polite" className="visually-hidden">
        {justSent ? 'Message sent. ' : ''}
        {newFromPoll.length > 0
          ? `${newFromPoll.length} new ${newFromPoll.length === 1 ? 'message' : 'messages'} from your care team.`
          : ''}
      </p>
      {poll.failures > 0 ? (
        <p role="status" className="notice">
          New messages could not be checked just now. The page will try again; reload it to check at
          once.
        </p>
      ) : null}

      {practitioner ? (
        <ComposeForm
          key={formKey}
          fetcher={fetcher}
          idempotencyKey={formKey}
          failure={failure}
          keptDraft={keptDraft}
          shownDraft={shownEarlier?.draft ?? null}
          pending={fetcher.state !== 'idle'}
          focusOnMount={justSent}
        />
      ) : (
        <section id="compose" aria-labelledby="compose-heading">
          <h2 id="compose-heading">Write a message</h2>
          <p className="notice">{NO_PRACTITIONER_MESSAGE}</p>
        </section>
      )}
    </>
  );
}

/**
 * Renders how many earlier messages are hidden and a way to a page with more of them. On a page
 * with a compose form it is a button of that form, which posts the draft and its key to the
 * longer page and gets both back. With JavaScript the post is a client-side navigation.
 */
function EarlierMessagesLink({
  earlier,
  keepsDraft,
}: {
  earlier: EarlierMessages;
  keepsDraft: boolean;
}) {
  const { hiddenCount, hiddenNewCount, nextShowCount } = earlier;
  const submit = useSubmit();
  const to = `/messages?show=${nextShowCount}`;
  return (
    <nav aria-label="Earlier messages" className="pager">
      <p>
        {hiddenCount} earlier {hiddenCount === 1 ? 'message is' : 'messages are'} hidden
        {hiddenNewCount > 0 ? `, ${hiddenNewCount} of them new` : ''}.{' '}
        {keepsDraft ? (
          <button
            type="submit"
            form={COMPOSE_FORM_ID}
            formAction={to}
            formMethod="post"
            formNoValidate
            name="intent"
            value="show-earlier"
            className="link-button"
            onClick={(event) => {
              event.preventDefault();
              // The button names its form, action, method and intent, as without JavaScript.
              void submit(event.currentTarget, { preventScrollReset: true });
            }}
          >
            Show earlier messages
          </button>
        ) : (
          <Link to={to}>Show earlier messages</Link>
        )}
      </p>
    </nav>
  );
}

const COMPOSE_FORM_ID = 'compose-form';

function ComposeForm({
  fetcher,
  idempotencyKey,
  failure,
  keptDraft,
  shownDraft,
  pending,
  focusOnMount = false,
}: {
  fetcher: ReturnType<typeof useFetcher<SendFailure>>;
  idempotencyKey: string;
  failure: SendFailure | undefined;
  keptDraft: string | null;
  /** The draft that "Show earlier messages" posted. */
  shownDraft: string | null;
  pending: boolean;
  /** Moves focus to the empty box, after a send replaced the form. */
  focusOnMount?: boolean;
}) {
  const textRef = useRef<HTMLTextAreaElement>(null);
  const error = failure ? (failure.failure.fields?.text ?? failure.failure.message) : undefined;

  // After a failed send, focus goes back to the draft so the error is read with it.
  useEffect(() => {
    if (error || focusOnMount) textRef.current?.focus();
  }, [error, focusOnMount]);

  return (
    <section id="compose" aria-labelledby="compose-heading">
      <h2 id="compose-heading">Write a message</h2>
      {keptDraft !== null && !failure ? (
        <p role="status" className="notice">
          We kept your unsent message. Review it and send it again.
        </p>
      ) : null}
      <fetcher.Form id={COMPOSE_FORM_ID} method="post" action="/messages" noValidate>
        <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
        <div className="field">
          <label htmlFor="message-text">Your message</label>
          <textarea
            ref={textRef}
            id="message-text"
            name="text"
            rows={4}
            maxLength={MESSAGE_MAX_CHARACTERS}
            defaultValue={failure?.draft ?? keptDraft ?? shownDraft ?? ''}
            readOnly={pending}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'message-text-error' : 'message-text-hint'}
            required
          />
          {error ? (
            <p id="message-text-error" className="field-error" role="alert">
              {error}
            </p>
          ) : (
            <p id="message-text-hint" className="hint">
              Up to {MESSAGE_MAX_CHARACTERS.toLocaleString('en-US')} characters. Your care team
              usually replies within one business day.
            </p>
          )}
        </div>
        <button type="submit" disabled={pending}>
          {pending ? 'Sending…' : 'Send message'}
        </button>
      </fetcher.Form>
    </section>
  );
}

function MessageView({ message, timeZone }: { message: ConversationMessage; timeZone: string }) {
  return (
    <article>
      <p className="message-meta">
        <span className="message-sender">{message.senderName}</span>
        {message.sentAt ? (
          <>
            {' · '}
            <time dateTime={message.sentAt}>{formatInstant(message.sentAt, timeZone)}</time>
          </>
        ) : null}
        {message.isNew ? <span className="message-new"> · New</span> : null}
      </p>
      {message.parts.length === 0 ? <p className="muted">This message has no text.</p> : null}
      {message.parts.map((part, index) => (
        // Parts have no id and may repeat, so their position is the key.
        <MessagePartView key={index} part={part} />
      ))}
    </article>
  );
}

function MessagePartView({ part }: { part: MessagePart }) {
  switch (part.kind) {
    case 'text':
      return <p className="message-text">{part.text}</p>;
    case 'html':
      // Sanitized on the server to a small allow-list (message-parts.server.ts).
      return <div className="message-html" dangerouslySetInnerHTML={{ __html: part.html }} />;
    case 'attachment':
      return (
        <p className="message-attachment">
          Attachment: <strong>{part.title}</strong> ({part.typeLabel}
          {part.sizeBytes !== undefined ? `, ${formatByteSize(part.sizeBytes)}` : ''}). Ask your
          care team for a copy.
        </p>
      );
    case 'reference':
      return <p className="message-reference">Linked record: {part.label}</p>;
  }
}

/**
 * Returns true from the moment a send by the fetcher succeeded until the next one starts, so the
 * page can announce it and focus the new, empty box.
 */
function useSentAnnouncement(
  fetcherState: 'idle' | 'loading' | 'submitting',
  failed: boolean,
  pageKey: string,
): boolean {
  const [sentKey, setSentKey] = useState<string | undefined>(undefined);
  const wasBusy = useRef(false);

  useEffect(() => {
    if (fetcherState !== 'idle') {
      wasBusy.current = true;
      setSentKey(undefined);
      return;
    }
    if (wasBusy.current && !failed) setSentKey(pageKey);
    wasBusy.current = false;
  }, [fetcherState, failed, pageKey]);

  return sentKey !== undefined && sentKey === pageKey;
}

/** Shows the draft and its error when the conversation itself could not be loaded either. */
function UnavailableCompose({ failure }: { failure: SendFailure }) {
  return (
    <section id="compose" aria-labelledby="compose-heading">
      <h2 id="compose-heading">Your message</h2>
      <form method="post" action="/messages">
        <input type="hidden" name="idempotencyKey" value={failure.idempotencyKey} />
        <div className="field">
          <label htmlFor="message-text">Your message</label>
          <textarea
            id="message-text"
            name="text"
            rows={4}
            maxLength={MESSAGE_MAX_CHARACTERS}
            defaultValue={failure.draft}
            aria-invalid
            aria-describedby="message-text-error"
          />
          <p id="message-text-error" className="field-error" role="alert">
            {failure.failure.fields?.text ?? failure.failure.message}
          </p>
        </div>
        <button type="submit">Send message</button>
      </form>
    </section>
  );
}
