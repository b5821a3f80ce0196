import type { CapturedMessage } from './mailbox.js';

/**
 * Renders the developer page that lists captured emails newest first, so that a developer can
 * read a sign-in code. Every value is HTML-escaped, and an HTML body is shown as source, never
 * rendered. The page has no scripts or styles, so it works under any Content-Security-Policy.
 */
export function renderMailPage(
  messages: CapturedMessage[],
  recipientFilter: string | undefined,
): string {
  const heading = recipientFilter ? `Emails to ${recipientFilter}` : 'All captured emails';
  const list =
    messages.length === 0
      ? '<p>No emails yet. Emails that the portal sends through the SendGrid stand-in appear here.</p>'
      : `<ol reversed>\n${messages.map(renderMessage).join('\n')}\n</ol>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox mailbox</title>
</head>
<body>
<main>
<h1>Sandbox mailbox</h1>
<p>Emails captured by the SendGrid stand-in in this process, newest first. They were not delivered.</p>
<form method="get">
<label for="to">Recipient</label>
<input id="to" name="to" type="email" value="${escapeHtml(recipientFilter ?? '')}">
<button type="submit">Filter</button>
</form>
<h2>${escapeHtml(heading)} (${messages.length})</h2>
${list}
</main>
</body>
</html>
`;
}

function renderMessage(message: CapturedMessage): string {
  const htmlSource = message.html
    ? `<details>
<summary>HTML source</summary>
<pre>${escapeHtml(message.html)}</pre>
</details>`
    : '';

  return `<li>
<article>
<h3>${escapeHtml(message.subject || '(no subject)')}</h3>
<dl>
<dt>To</dt><dd>${escapeHtml(message.to)}</dd>
<dt>From</dt><dd>${escapeHtml(message.from)}</dd>
<dt>Sent</dt><dd><time datetime="${escapeHtml(message.sentAt)}">${escapeHtml(message.sentAt)}</time></dd>
<dt>Message id</dt><dd>${escapeHtml(message.messageId)}</dd>
</dl>
<pre>${escapeHtml(message.text ?? '(no plain-text body)')}</pre>
${htmlSource}
</article>
</li>`;
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
