import { Client } from '@sendgrid/client';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { CapturedMessage } from './mailbox.js';
import { startSandbox, TEST_CREDENTIALS, type RunningSandbox } from './test-support.js';

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await fetch(`${sandbox.sandboxUrl}/mail/messages`, { method: 'DELETE' });
});

/** Creates a real @sendgrid/mail service pointed at the stand-in, as the portal configures it. */
function createMailService(apiKey: string = TEST_CREDENTIALS.sendgridApiKey): MailService {
  const client = new Client();
  // setApiKey resets baseUrl to api.sendgrid.com, so baseUrl must be set after it.
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', `${sandbox.sandboxUrl}/sendgrid`);

  const service = new MailService();
  service.setClient(client);
  return service;
}

function signInEmail(to: string, code: string): MailDataRequired {
  return {
    to,
    from: 'portal@example.com',
    subject: 'Your sign-in code',
    text: `Your code is ${code}.`,
    html: `<p>Your code is <strong>${code}</strong>.</p>`,
  };
}

async function listMessages(query = ''): Promise<CapturedMessage[]> {
  const response = await fetch(`${sandbox.sandboxUrl}/mail/messages${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as CapturedMessage[];
}

describe('SendGrid stand-in', () => {
  it('accepts a message from @sendgrid/mail with 202 and a message id', async () => {
    const [response, body] = await createMailService().send(
      signInEmail('ava.reyes@example.com', '123456'),
    );

    expect(response.statusCode).toBe(202);
    expect((response.headers as Record<string, string>)['x-message-id']).toMatch(
      /^[A-Za-z0-9_-]{16,}$/,
    );
    expect(body).toBe('');
  });

  it('captures the message with its text and HTML', async () => {
    await createMailService().send(signInEmail('ava.reyes@example.com', '123456'));

    const messages = await listMessages();

    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      to: 'ava.reyes@example.com',
      from: 'portal@example.com',
      subject: 'Your sign-in code',
      text: 'Your code is 123456.',
      html: '<p>Your code is <strong>123456</strong>.</p>',
    });
    expect(Date.parse(messages[0]?.sentAt ?? '')).not.toBeNaN();
  });

  it('captures attachments decoded as text', async () => {
    const calendar = 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n';
    await createMailService().send({
      ...signInEmail('ava.reyes@example.com', '123456'),
      attachments: [
        {
          content: Buffer.from(calendar).toString('base64'),
          filename: 'visit.ics',
          type: 'text/calendar; method=REQUEST',
          disposition: 'attachment',
        },
      ],
    });

    const [message] = await listMessages();

    expect(message?.attachments).toEqual([
      { filename: 'visit.ics', type: 'text/calendar; method=REQUEST', content: calendar },
    ]);
  });

  it('rejects an attachment whose content is not base64', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/sendgrid/v3/mail/send`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_CREDENTIALS.sendgridApiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'ava.reyes@example.com' }] }],
        from: { email: 'portal@example.com' },
        subject: 'Visit',
        content: [{ type: 'text/plain', value: 'See attached.' }],
        attachments: [{ content: 'not base64!', filename: 'visit.ics' }],
      }),
    });

    expect(response.status).toBe(400);
    expect(await listMessages()).toEqual([]);
  });

  it('lists messages newest first', async () => {
    const mail = createMailService();
    await mail.send(signInEmail('ava.reyes@example.com', '111111'));
    await mail.send(signInEmail('ava.reyes@example.com', '222222'));
    await mail.send(signInEmail('ava.reyes@example.com', '333333'));

    const texts = (await listMessages()).map((message) => message.text);

    expect(texts).toEqual(['Your code is 333333.', 'Your code is 222222.', 'Your code is 111111.']);
  });

  it('filters by recipient without regard to case', async () => {
    const mail = createMailService();
    await mail.send(signInEmail('ava.reyes@example.com', '111111'));
    await mail.send(signInEmail('marcus.chen@example.com', '222222'));

    const messages = await listMessages(`?to=${encodeURIComponent('Marcus.Chen@Example.com')}`);

    expect(messages.map((message) => message.to)).toEqual(['marcus.chen@example.com']);
  });

  it('captures one message per recipient, cc included', async () => {
    await createMailService().send({
      ...signInEmail('ava.reyes@example.com', '123456'),
      cc: 'priya.nair@example.com',
    });

    const recipients = (await listMessages()).map((message) => message.to).sort();

    expect(recipients).toEqual(['ava.reyes@example.com', 'priya.nair@example.com']);
  });

  it('rejects a wrong API key with a SendGrid error', async () => {
    const sending = createMailService('SG.wrong-key').send(
      signInEmail('ava.reyes@example.com', '123456'),
    );

    await expect(sending).rejects.toMatchObject({
      code: 401,
      response: { body: { errors: [{ field: null, help: null }] } },
    });
    expect(await listMessages()).toEqual([]);
  });

  it('rejects a request without Authorization', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/sendgrid/v3/mail/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });

    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toBeTruthy();
  });

  it('rejects a body without from, subject and content, naming each field', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/sendgrid/v3/mail/send`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${TEST_CREDENTIALS.sendgridApiKey}`,
      },
      body: JSON.stringify({ personalizations: [{ to: [{ email: 'ava.reyes@example.com' }] }] }),
    });

    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      errors: { field: string | null; message: string; help: null }[];
    };
    expect(body.errors.map((error) => error.field).sort()).toEqual(['content', 'from', 'subject']);
  });

  it('rejects an invalid recipient address', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/sendgrid/v3/mail/send`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${TEST_CREDENTIALS.sendgridApiKey}`,
      },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'not-an-address' }] }],
        from: { email: 'portal@example.com' },
        subject: 'Hello',
        content: [{ type: 'text/plain', value: 'Hello' }],
      }),
    });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string | null }[] };
    expect(body.errors.map((error) => error.field)).toEqual(['personalizations.0.to.0.email']);
  });
});

describe('mail page', () => {
  it('lists messages newest first in an accessible page', async () => {
    const mail = createMailService();
    await mail.send(signInEmail('ava.reyes@example.com', '111111'));
    await mail.send(signInEmail('ava.reyes@example.com', '222222'));

    const response = await fetch(`${sandbox.sandboxUrl}/mail`);
    const html = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<title>[^<]+<\/title>/);
    expect(html).toContain('<main>');
    expect(html).toContain('<h1>');
    expect(html.indexOf('222222')).toBeGreaterThan(-1);
    expect(html.indexOf('222222')).toBeLessThan(html.indexOf('111111'));
  });

  it('escapes message content', async () => {
    await createMailService().send({
      to: 'ava.reyes@example.com',
      from: 'portal@example.com',
      subject: '<script>alert(1)</script>',
      text: 'a < b & "c"',
    });

    const html = await (await fetch(`${sandbox.sandboxUrl}/mail`)).text();

    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &lt; b &amp; &quot;c&quot;');
  });

  it('filters by the to query parameter', async () => {
    const mail = createMailService();
    await mail.send(signInEmail('ava.reyes@example.com', '111111'));
    await mail.send(signInEmail('marcus.chen@example.com', '222222'));

    const html = await (
      await fetch(`${sandbox.sandboxUrl}/mail?to=marcus.chen%40example.com`)
    ).text();

    expect(html).toContain('222222');
    expect(html).not.toContain('111111');
  });
});
