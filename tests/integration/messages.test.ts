import type { Bundle, Communication } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MESSAGES_PER_PAGE } from '../../app/messages/conversation-window';
import { FIXTURE_MESSAGING_PATIENT, FIXTURE_PATIENT } from '../../sandbox/demo-data';
import {
  demoPatient,
  type PatientClient,
  readPageHtml,
  signInOncePerEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { countUpstreamRequests, setSandboxFault } from '../support/sandbox-control';
import { SandboxFhir } from '../support/sandbox-fhir';

interface MessageJson {
  id: string;
  sentAt: string | null;
  from: 'patient' | 'care-team';
  senderName: string;
  parts: ({ kind: 'text'; text: string } | { kind: 'html'; html: string } | { kind: string })[];
  isNew: boolean;
}

interface ConversationJson {
  messages: MessageJson[];
  cursor: string;
  timeZone: string;
  practitioner: { id: string; name: string } | null;
}

let portal: PortalServer;
let fhir: SandboxFhir;

beforeAll(async () => {
  // A short upstream timeout lets a test make FHIR respond after the portal gave up.
  portal = await startPortalServer({ UPSTREAM_TIMEOUT_MS: '1000' });
  fhir = new SandboxFhir(portal.baseUrl);
  signIn = signInOncePerEmail(portal.baseUrl);
});

afterAll(async () => {
  await portal?.stop();
});

let signIn: (email: string) => Promise<PatientClient>;

const ava = () => signIn(demoPatient(0).email);
const marcus = () => signIn(demoPatient(1).email);
const priya = () => signIn(demoPatient(2).email);

async function readConversation(client: PatientClient, query = ''): Promise<ConversationJson> {
  const response = await client.request(`/api/patient/messages${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as ConversationJson;
}

function textOf(message: MessageJson): string {
  const texts = message.parts.map((part) => {
    if ('text' in part) return part.text;
    if ('html' in part) return part.html;
    return '';
  });
  return texts.join('\n');
}

/** Reads every Communication the patient sent from the sandbox FHIR server directly. */
async function communicationsSentBy(patientId: string): Promise<Communication[]> {
  const bundle = await fhir.search<Bundle<Communication>>(
    `Communication?sender=Patient/${patientId}&_count=100`,
  );
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

/** Plays the practitioner: creates a reply in the sandbox FHIR, as Canvas would store it. */
async function replyAsPractitioner(
  patientId: string,
  practitionerId: string,
  text: string,
): Promise<string> {
  return fhir.create({
    resourceType: 'Communication',
    status: 'completed',
    sender: { reference: `Practitioner/${practitionerId}` },
    recipient: [{ reference: `Patient/${patientId}` }],
    sent: new Date().toISOString(),
    payload: [{ contentString: text }],
  });
}

const setFhirFault = (settings: Record<string, unknown> | null) =>
  setSandboxFault(portal.baseUrl, 'fhir', settings);
const fhirRequestCount = () => countUpstreamRequests(portal.baseUrl, 'fhir');

function uniqueText(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 10)}`;
}

/** Ids of the messages the page's conversation list shows, in page order. */
function messageIdsOnPage(html: string): string[] {
  return [...html.matchAll(/<li id="message-([^"]+)"/g)].map((match) => match[1] ?? '');
}

/**
 * Returns the address of the page's "Show earlier messages". A page with a compose form has a
 * button with a `formaction`, and a page without one a link. Undefined when the page has neither.
 */
function earlierMessagesHref(html: string): string | undefined {
  const button = /<button [^>]*formAction="([^"]*)"[^>]*>Show earlier messages<\/button>/i.exec(
    html,
  );
  return button?.[1] ?? /<a href="([^"]*)"[^>]*>Show earlier messages<\/a>/.exec(html)?.[1];
}

/** Undoes the escaping React applies to text: `&`, `<`, `>`, `"` and `'`. */
function decodeHtml(text: string): string {
  const entities: Record<string, string> = {
    '&amp;': '&',
    '&lt;': '<',
    '&gt;': '>',
    '&quot;': '"',
    '&#x27;': "'",
  };
  return text.replace(/&(?:amp|lt|gt|quot|#x27);/g, (entity) => entities[entity] ?? entity);
}

async function readMessagesPage(client: PatientClient, path = '/messages'): Promise<string> {
  const response = await client.request(path);
  expect(response.status, path).toBe(200);
  return readPageHtml(response);
}

describe('reading the conversation', () => {
  it('lists the demo thread oldest first', async () => {
    const conversation = await readConversation(await ava());

    expect(conversation.timeZone).toBe(demoPatient(0).timeZone);
    expect(conversation.practitioner?.name).toBe('Nia Okafor');
    expect(conversation.messages.length).toBeGreaterThanOrEqual(3);
    const times = conversation.messages.map((message) => Date.parse(message.sentAt ?? ''));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const senders = new Set(conversation.messages.map((message) => message.senderName));
    expect(senders).toContain('Nia Okafor');
    expect(senders).toContain('Ava Reyes');
  });

  it('follows every page of a long thread', async () => {
    const conversation = await readConversation(await priya());
    const seeded = conversation.messages.filter((message) =>
      message.id.startsWith('demo-priya-message-'),
    );
    expect(seeded).toHaveLength(130);
    expect(new Set(seeded.map((message) => message.id)).size).toBe(130);
  });

  it('sanitizes HTML in an incoming message on the page and in the API', async () => {
    const client = await ava();
    const conversation = await readConversation(client);
    const htmlParts = conversation.messages
      .flatMap((message) => message.parts)
      .flatMap((part) => ('html' in part ? [part.html] : []));
    expect(htmlParts.length).toBeGreaterThan(0);
    expect(htmlParts.join('')).toContain('<strong>');

    const page = await readPageHtml(await client.request('/messages'));
    // The slice ends before the form, because the page's own scripts follow the conversation.
    const conversationHtml = page.slice(
      page.indexOf('<ol class="conversation"'),
      page.indexOf('<section id="compose"'),
    );
    for (const html of [htmlParts.join(''), conversationHtml]) {
      expect(html).not.toMatch(/<script|onerror|onclick|javascript:/i);
    }
  });

  it('escapes what the patient wrote', async () => {
    const client = await marcus();
    const text = uniqueText('<img src=x onerror=alert(1)> <b>bold?</b>');
    expect((await client.postJson('/api/patient/messages', { text })).status).toBe(201);

    const page = await readPageHtml(await client.request('/messages'));
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt; &lt;b&gt;bold?&lt;/b&gt;');
    expect(page).not.toContain('<img src=x');
  });

  it('shows the official Communication examples with attachments and references', async () => {
    const conversation = await readConversation(await signIn(FIXTURE_MESSAGING_PATIENT.email));
    const byId = new Map(conversation.messages.map((message) => [message.id, message]));

    expect(byId.get('example')?.parts).toEqual([
      {
        kind: 'text',
        text: 'Patient 1 has a very high serum potassium value (7.2 mmol/L on 2014-Dec-12 at 5:55 pm)',
      },
      { kind: 'reference', label: 'Serum Potassium Observation' },
    ]);
    const attachments = byId.get('fm-attachment')?.parts ?? [];
    expect(attachments).toContainEqual(
      expect.objectContaining({ kind: 'attachment', title: 'accident notes 20100201.pdf' }),
    );
    expect(attachments).toContainEqual(
      expect.objectContaining({ kind: 'attachment', sizeBytes: 104274 }),
    );
    expect(byId.has('fm-solicited')).toBe(true);
  });
});

describe('the newest messages on the page', () => {
  it('shows the newest page by default', async () => {
    const client = await priya();
    const thread = (await readConversation(client)).messages.map((message) => message.id);
    expect(thread.length).toBeGreaterThan(2 * MESSAGES_PER_PAGE);

    const html = await readMessagesPage(client);

    expect(messageIdsOnPage(html)).toEqual(thread.slice(-MESSAGES_PER_PAGE));
    expect(html).toContain(`${thread.length - MESSAGES_PER_PAGE} earlier messages are hidden.`);
    expect(earlierMessagesHref(html)).toBe(`/messages?show=${2 * MESSAGES_PER_PAGE}`);
  });

  it('grows one page per link', async () => {
    const client = await priya();
    const thread = (await readConversation(client)).messages.map((message) => message.id);
    const pageCount = Math.ceil(thread.length / MESSAGES_PER_PAGE);
    const expectedHrefs = ['/messages'];
    for (let page = 2; page <= pageCount; page += 1) {
      expectedHrefs.push(`/messages?show=${Math.min(page * MESSAGES_PER_PAGE, thread.length)}`);
    }

    const visited: string[] = [];
    let href: string | undefined = '/messages';
    let html = '';
    while (href !== undefined && visited.length <= pageCount) {
      html = await readMessagesPage(client, href);
      const shownCount = Math.min((visited.length + 1) * MESSAGES_PER_PAGE, thread.length);
      expect(messageIdsOnPage(html), href).toEqual(thread.slice(-shownCount));
      visited.push(href);
      href = earlierMessagesHref(html);
    }

    expect(visited).toEqual(expectedHrefs);
    expect(messageIdsOnPage(html)).toEqual(thread);
    expect(html).not.toContain('earlier messages are hidden');
    expect(html).not.toContain('earlier message is hidden');
  });

  it('caps the show count at the thread length', async () => {
    const client = await priya();
    const thread = (await readConversation(client)).messages.map((message) => message.id);

    const everything = await readMessagesPage(client, '/messages?show=99999');
    expect(messageIdsOnPage(everything)).toEqual(thread);
    expect(earlierMessagesHref(everything)).toBeUndefined();

    const five = await readMessagesPage(client, '/messages?show=5');
    expect(messageIdsOnPage(five)).toEqual(thread.slice(-5));
    expect(five).toContain(`${thread.length - 5} earlier messages are hidden.`);
    expect(earlierMessagesHref(five)).toBe(`/messages?show=${5 + MESSAGES_PER_PAGE}`);

    const empty = await readMessagesPage(client, '/messages?show=');
    expect(messageIdsOnPage(empty)).toEqual(thread.slice(-MESSAGES_PER_PAGE));
  });

  it('keeps the draft without JavaScript', async () => {
    const client = await priya();
    const thread = (await readConversation(client)).messages.map((message) => message.id);
    const href = earlierMessagesHref(await readMessagesPage(client));
    expect(href).toBe(`/messages?show=${2 * MESSAGES_PER_PAGE}`);
    const draft = `${uniqueText('Half-written question')} <about> "refills" & dosage`;

    // The button submits the compose form to its own address, with intent=show-earlier.
    const idempotencyKey = crypto.randomUUID();
    const response = await client.postForm(href ?? '', {
      text: draft,
      idempotencyKey,
      intent: 'show-earlier',
    });

    expect(response.status).toBe(200);
    const html = await readPageHtml(response);
    expect(messageIdsOnPage(html)).toEqual(thread.slice(-2 * MESSAGES_PER_PAGE));
    const textarea = /<textarea[^>]*id="message-text"[^>]*>([^<]*)<\/textarea>/.exec(html);
    expect(decodeHtml(textarea?.[1] ?? '')).toBe(draft);
    // The draft keeps its key, so resending a draft whose send failed cannot store it twice.
    expect(html).toContain(`name="idempotencyKey" value="${idempotencyKey}"`);
    // Nothing was sent.
    expect((await readConversation(client)).messages.map((message) => message.id)).toEqual(thread);
  });

  it('answers 404 to a malformed show count', async () => {
    const client = await priya();
    for (const value of ['0', '-30', 'abc', '30.5', '030', '1e2', '+30', '%2030', '100000']) {
      const response = await client.request(`/messages?show=${value}`);
      expect(response.status, value).toBe(404);
    }
  });

  it('counts hidden unread replies and marks them read', async () => {
    const client = await priya();
    await readConversation(client);
    // Dated long ago, the replies sort first in the thread, so the page hides them.
    const replyIds = await Promise.all(
      ['2001-01-01T09:00:00Z', '2001-01-02T09:00:00Z'].map((sent) =>
        fhir.create({
          resourceType: 'Communication',
          status: 'completed',
          sender: { reference: 'Practitioner/demo-dr-okafor' },
          recipient: [{ reference: 'Patient/demo-priya' }],
          sent,
          payload: [{ contentString: uniqueText('An old reply') }],
        }),
      ),
    );
    expect(await unreadOnDashboard(client)).toBe(2);

    const html = await readMessagesPage(client);

    const shownIds = messageIdsOnPage(html);
    for (const replyId of replyIds) expect(shownIds).not.toContain(replyId);
    expect(html).toMatch(/\d+ earlier messages are hidden, 2 of them new\./);
    expect(await unreadOnDashboard(client)).toBe(0);
    const again = await readMessagesPage(client);
    expect(again).not.toContain('of them new');
  });

  it('reads FHIR as for the whole thread', async () => {
    const client = await priya();
    // The first view fills the practitioner name cache, so the views below compare alike.
    await readMessagesPage(client);

    const before = await fhirRequestCount();
    await readMessagesPage(client);
    const newestOnly = (await fhirRequestCount()) - before;
    await readMessagesPage(client, '/messages?show=99999');
    const wholeThread = (await fhirRequestCount()) - before - newestOnly;

    expect(newestOnly).toBeGreaterThan(0);
    expect(newestOnly).toBe(wholeThread);
  });

  it('polls a reply newer than the shown messages', async () => {
    const client = await priya();
    const opened = await readConversation(client);
    const html = await readMessagesPage(client);
    // The page starts its poll from the same cursor as the API.
    expect(html).toContain(opened.cursor);

    const text = uniqueText('Your new dose starts on Monday.');
    const replyId = await replyAsPractitioner('demo-priya', 'demo-dr-okafor', text);
    const callsBefore = await fhirRequestCount();
    const poll = await readConversation(client, `?since=${encodeURIComponent(opened.cursor)}`);

    expect(await fhirRequestCount()).toBe(callsBefore + 1);
    expect(poll.messages.map((message) => message.id)).toEqual([replyId]);
    const reloaded = messageIdsOnPage(await readMessagesPage(client));
    expect(reloaded).toHaveLength(MESSAGES_PER_PAGE);
    expect(reloaded.at(-1)).toBe(replyId);
  });

  it('shows a message sent from the form', async () => {
    const client = await priya();
    const text = uniqueText('Sent from a long thread');

    const posted = await client.postForm('/messages', {
      text,
      idempotencyKey: crypto.randomUUID(),
    });

    expect(posted.status).toBe(303);
    const sentId = /^\/messages#message-(.+)$/.exec(posted.headers.get('location') ?? '')?.[1];
    expect(sentId).toBeDefined();
    const html = await readMessagesPage(client);
    const shownIds = messageIdsOnPage(html);
    expect(shownIds).toHaveLength(MESSAGES_PER_PAGE);
    expect(shownIds.at(-1)).toBe(sentId);
    expect(html).toContain(text);
  });
});

describe('patient scope', () => {
  it('never returns another patient’s messages, whatever the query says', async () => {
    const client = await ava();
    const queries = [
      '',
      '?patient=Patient/demo-priya',
      '?sender=Patient/demo-priya&recipient=Patient/demo-priya',
      '?subject=demo-priya&_id=demo-priya-message-001',
      '?since=2000-01-01T00:00:00Z&patient=demo-priya',
      '?since=2000-01-01T00:00:00Z&recipient=Patient/demo-priya',
    ];
    for (const query of queries) {
      const conversation = await readConversation(client, query);
      expect(conversation.messages.length, query).toBeGreaterThan(0);
      for (const message of conversation.messages) {
        expect(message.id, query).not.toMatch(/^demo-(priya|marcus)-/);
        expect(message.senderName, query).not.toMatch(/Priya|Marcus/);
      }
    }
  });

  it('answers 401 without a session', async () => {
    const response = await fetch(`${portal.baseUrl}/api/patient/messages`);
    expect(response.status).toBe(401);
  });
});

describe('sending', () => {
  it('sends a message that then appears in the conversation', async () => {
    const client = await ava();
    const text = uniqueText('Is it fine to take my tablet with coffee?');

    const response = await client.postJson('/api/patient/messages', { text: `  ${text}  ` });
    expect(response.status).toBe(201);
    const { message } = (await response.json()) as { message: MessageJson };
    expect(message.from).toBe('patient');
    expect(textOf(message)).toBe(text);

    const conversation = await readConversation(client);
    expect(conversation.messages.at(-1)?.id).toBe(message.id);
    const [created] = (await communicationsSentBy('demo-ava')).filter(
      (communication) => communication.id === message.id,
    );
    expect(created?.recipient?.[0]?.reference).toBe('Practitioner/demo-dr-okafor');
    expect(created?.payload?.[0]?.contentString).toBe(text);
    expect(Date.parse(created?.sent ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('addresses the practitioner of the CareTeam when generalPractitioner is missing', async () => {
    const client = await priya();
    const response = await client.postJson('/api/patient/messages', {
      text: uniqueText('Question about metformin'),
    });
    expect(response.status).toBe(201);
    const { message } = (await response.json()) as { message: MessageJson };
    const created = (await communicationsSentBy('demo-priya')).find(
      (communication) => communication.id === message.id,
    );
    expect(created?.recipient).toEqual([
      expect.objectContaining({ reference: 'Practitioner/demo-dr-okafor' }),
    ]);
  });

  it('rejects an empty message, one over the limit and unknown fields', async () => {
    const client = await ava();
    const cases: [unknown, number, string][] = [
      [{ text: '   ' }, 400, 'Write a message before sending.'],
      [{ text: 'x'.repeat(2001) }, 400, 'Messages can be up to 2,000 characters. Yours has 2001.'],
      [{}, 400, 'Write a message before sending.'],
      [{ text: 'hi', recipient: 'Practitioner/x' }, 400, 'This field is not accepted.'],
    ];
    const before = (await communicationsSentBy('demo-ava')).length;
    for (const [body, status, message] of cases) {
      const response = await client.postJson('/api/patient/messages', body);
      expect(response.status).toBe(status);
      const error = (await response.json()) as { error: { fields: Record<string, string> } };
      expect(Object.values(error.error.fields)).toContain(message);
    }
    expect((await communicationsSentBy('demo-ava')).length).toBe(before);
  });

  it('creates exactly one Communication for a double submit with one key', async () => {
    const client = await ava();
    const text = uniqueText('Sent twice by a double tap');
    const key = crypto.randomUUID();

    const responses = await Promise.all(
      [0, 1, 2].map(() =>
        client.postJson('/api/patient/messages', { text }, { 'idempotency-key': key }),
      ),
    );
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as {
      message: MessageJson;
    }[];

    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
    expect(new Set(bodies.map((body) => body.message.id)).size).toBe(1);
    expect(
      responses.filter((response) => response.headers.get('idempotent-replayed')),
    ).toHaveLength(2);
    const matching = (await communicationsSentBy('demo-ava')).filter(
      (communication) => communication.payload?.[0]?.contentString === text,
    );
    expect(matching).toHaveLength(1);
  });

  it('creates exactly one Communication when the page form is posted twice', async () => {
    const client = await ava();
    const text = uniqueText('Posted twice from the form');
    const fields = { text, idempotencyKey: crypto.randomUUID() };

    const responses = await Promise.all([
      client.postForm('/messages', fields),
      client.postForm('/messages', fields),
    ]);

    for (const response of responses) {
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/messages#message-/);
    }
    const matching = (await communicationsSentBy('demo-ava')).filter(
      (communication) => communication.payload?.[0]?.contentString === text,
    );
    expect(matching).toHaveLength(1);
    const page = await readPageHtml(await client.request('/messages'));
    expect(page).toContain(text);
  });

  it('refuses a key reused for a different message', async () => {
    const client = await ava();
    const key = crypto.randomUUID();
    const first = await client.postJson(
      '/api/patient/messages',
      { text: uniqueText('first') },
      { 'idempotency-key': key },
    );
    expect(first.status).toBe(201);
    const second = await client.postJson(
      '/api/patient/messages',
      { text: uniqueText('second') },
      { 'idempotency-key': key },
    );
    expect(second.status).toBe(422);
    const bad = await client.postJson(
      '/api/patient/messages',
      { text: 'hi' },
      { 'idempotency-key': 'short' },
    );
    expect(bad.status).toBe(400);
  });

  it('sends an edited draft after a failure', async () => {
    const client = await ava();
    const pageKey = crypto.randomUUID();
    const first = await client.postForm('/messages', {
      text: 'x'.repeat(2001),
      idempotencyKey: pageKey,
    });
    expect(first.status).toBe(400);

    const edited = uniqueText('Shorter now');
    const second = await client.postForm('/messages', { text: edited, idempotencyKey: pageKey });
    expect(second.status).toBe(303);
  });

  it('accepts 2,000 characters of any script from the form', async () => {
    const client = await ava();
    const text = `${'東'.repeat(1000)}${'😀'.repeat(999)}${uniqueText('').trim().slice(0, 1)}`;
    expect([...text]).toHaveLength(2000);

    const response = await client.postForm('/messages', {
      text,
      idempotencyKey: crypto.randomUUID(),
    });

    expect(response.status).toBe(303);
  });

  it('rejects control characters and invisible text', async () => {
    const client = await ava();
    for (const text of ['nul\u0000byte', 'bell\u0007', '\u200B\u200B', 'half \uD83D']) {
      const response = await client.postJson('/api/patient/messages', { text });
      expect(response.status, JSON.stringify(text)).toBe(400);
    }
    const emoji = await client.postJson('/api/patient/messages', { text: '😀'.repeat(2001) });
    const body = (await emoji.json()) as { error: { fields: { text: string } } };
    expect(body.error.fields.text).toContain('Yours has 2001.');
  });

  it('answers 405 to other methods on the page', async () => {
    const client = await ava();
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const response = await client.request('/messages', {
        method,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ text: 'Should not send', idempotencyKey: crypto.randomUUID() }),
      });
      expect(response.status, method).toBe(405);
    }
  });

  it('explains that a patient without a practitioner cannot send', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const page = await readPageHtml(await client.request('/messages'));
    expect(page).toContain('You do not have a clinician assigned yet');
    expect(page).not.toContain('name="text"');

    const response = await client.postJson('/api/patient/messages', { text: 'Hello?' });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'no_practitioner',
    );
    const form = await client.postForm('/messages', {
      text: 'Hello from the form',
      idempotencyKey: crypto.randomUUID(),
    });
    expect(form.status).toBe(409);
    expect(await readPageHtml(form)).toContain('You do not have a clinician assigned yet');
  });
});

describe('replies, polling and read receipts', () => {
  it('polls a reply with one FHIR call', async () => {
    const client = await marcus();
    const opened = await readConversation(client);
    const unreadBefore = await unreadOnDashboard(client);
    expect(unreadBefore).toBe(0);

    const text = uniqueText('Your blood pressure log looks good.');
    const replyId = await replyAsPractitioner('demo-marcus', 'demo-dr-lindqvist', text);
    expect(await unreadOnDashboard(client)).toBe(1);

    const callsBefore = await fhirRequestCount();
    const poll = await readConversation(client, `?since=${encodeURIComponent(opened.cursor)}`);
    expect(await fhirRequestCount()).toBe(callsBefore + 1);

    const reply = poll.messages.find((message) => message.id === replyId);
    expect(reply).toMatchObject({ from: 'care-team', senderName: 'Erik Lindqvist', isNew: true });
    expect(textOf(reply as MessageJson)).toBe(text);
    expect(poll.messages.every((message) => message.from === 'care-team')).toBe(true);
    expect(Date.parse(poll.cursor)).toBeGreaterThanOrEqual(Date.parse(opened.cursor));

    expect(await unreadOnDashboard(client)).toBe(0);
    const reopened = await readConversation(client);
    expect(reopened.messages.find((message) => message.id === replyId)?.isNew).toBe(false);

    const quiet = await readConversation(client, `?since=${encodeURIComponent(poll.cursor)}`);
    expect(quiet.messages.filter((message) => message.id !== replyId)).toEqual([]);
  });

  it('rejects a malformed cursor', async () => {
    const response = await (await marcus()).request('/api/patient/messages?since=yesterday');
    expect(response.status).toBe(400);
  });
});

async function unreadOnDashboard(client: PatientClient): Promise<number> {
  const html = await readPageHtml(await client.request('/'));
  if (html.includes('No unread messages from your care team.')) return 0;
  const match = /You have (\d+) unread messages? from your care team\./.exec(html);
  if (!match) throw new Error('The dashboard shows no message count.');
  return Number(match[1]);
}

// Fault tests come last: failures open the portal's FHIR circuit breaker for a while.
describe('failures while sending', () => {
  it('keeps the draft when FHIR fails', async () => {
    const client = await ava();
    const text = uniqueText('Please call me about my refill.');
    const fields = { text, idempotencyKey: crypto.randomUUID() };

    await setFhirFault({ errorRate: 1, errorStatus: 503, methods: ['POST'] });
    try {
      const page = await client.postForm('/messages', fields);
      expect(page.status).toBe(503);
      const html = await readPageHtml(page);
      expect(html).toContain('Your message was not sent');
      expect(html).toMatch(new RegExp(`<textarea[^>]*>${text}</textarea>`));
      expect(html).toContain(`value="${fields.idempotencyKey}"`);

      const api = await client.postJson('/api/patient/messages', { text: uniqueText('api') });
      expect(api.status).toBe(503);
    } finally {
      await setFhirFault(null);
    }

    const retry = await client.postForm('/messages', fields);
    expect(retry.status).toBe(303);
    const matching = (await communicationsSentBy('demo-ava')).filter(
      (communication) => communication.payload?.[0]?.contentString === text,
    );
    expect(matching).toHaveLength(1);
  });

  it('sends once after a lost response', async () => {
    const client = await marcus();
    const text = uniqueText('Arrived late at the EHR');
    const key = crypto.randomUUID();

    // FHIR handles POSTs after 1.5 s, past the portal's 1 s timeout, and still stores them.
    await setFhirFault({ latencyMs: 1500, methods: ['POST'] });
    try {
      const first = await client.postJson(
        '/api/patient/messages',
        { text },
        { 'idempotency-key': key },
      );
      expect(first.status).toBe(503);
    } finally {
      await setFhirFault(null);
    }

    // The retry comes at once, while the first write is still on its way to FHIR.
    const retry = await client.postJson(
      '/api/patient/messages',
      { text },
      { 'idempotency-key': key },
    );
    expect(retry.status).toBe(201);
    expect(
      (await communicationsSentBy('demo-marcus')).filter(
        (communication) => communication.payload?.[0]?.contentString === text,
      ),
    ).toHaveLength(1);
  });
});
