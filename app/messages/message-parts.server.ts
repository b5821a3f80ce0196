import type { Attachment, CommunicationPayload, Reference } from '@medplum/fhirtypes';
import sanitizeHtml from 'sanitize-html';

import type { MessagePart } from './message';

/**
 * The HTML a care-team message may keep. Everything else is removed: `script`, `style` and
 * similar with their content, other tags leaving their text. Links keep only `href` with
 * http, https or mailto, and gain `rel` so the linked page cannot reach the portal's window.
 */
const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'strong', 'b', 'em', 'i', 'u', 'ul', 'ol', 'li', 'blockquote', 'a'],
  allowedAttributes: { a: ['href', 'rel'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow' }),
  },
};

/** Reduces HTML from the EHR to the allow-list above. */
export function sanitizeMessageHtml(html: string): string {
  return sanitizeHtml(html, SANITIZE_OPTIONS).trim();
}

/** True when the text contains something that looks like an HTML tag, comment or entity. */
export function looksLikeHtml(text: string): boolean {
  return /<[a-zA-Z!/]|&[a-zA-Z]+;|&#\d+;/.test(text);
}

/**
 * Turns the payload of a Communication into parts. Text the patient wrote stays text, so it is
 * always escaped when shown. Text from anyone else may be HTML (Canvas allows it in
 * `contentString`) and is sanitized; plain text stays text.
 */
export function toMessageParts(
  payload: CommunicationPayload[] | undefined,
  writtenByPatient: boolean,
): MessagePart[] {
  const parts: MessagePart[] = [];
  for (const item of payload ?? []) {
    if (item.contentString !== undefined) {
      const part = textPart(item.contentString, writtenByPatient);
      if (part) parts.push(part);
    } else if (item.contentAttachment) {
      parts.push(attachmentPart(item.contentAttachment));
    } else if (item.contentReference) {
      parts.push(referencePart(item.contentReference));
    }
  }
  return parts;
}

function textPart(content: string, writtenByPatient: boolean): MessagePart | undefined {
  if (writtenByPatient || !looksLikeHtml(content)) {
    const text = content.trim();
    return text === '' ? undefined : { kind: 'text', text };
  }
  const html = sanitizeMessageHtml(content);
  return html === '' ? undefined : { kind: 'html', html };
}

function attachmentPart(attachment: Attachment): MessagePart {
  return {
    kind: 'attachment',
    title: attachment.title?.trim() || 'Unnamed attachment',
    contentType: attachment.contentType,
    typeLabel: describeContentType(attachment.contentType),
    sizeBytes: attachmentSize(attachment),
  };
}

function referencePart(reference: Reference): MessagePart {
  const label = reference.display?.trim() || reference.reference || 'A linked record';
  return { kind: 'reference', label };
}

/** `Attachment.size` when given, else the decoded length of the base64 `data`. */
export function attachmentSize(attachment: Attachment): number | undefined {
  if (attachment.size !== undefined) return attachment.size;
  if (attachment.data === undefined) return undefined;

  const base64 = attachment.data.replace(/\s+/g, '');
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((base64.length * 3) / 4) - padding);
}

const CONTENT_TYPE_LABELS: Record<string, string> = {
  'application/pdf': 'PDF document',
  'image/jpeg': 'JPEG image',
  'image/png': 'PNG image',
  'image/gif': 'GIF image',
  'image/heic': 'HEIC image',
  'text/plain': 'Text file',
  'application/msword': 'Word document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document',
};

/** Names a MIME type (FHIR `Attachment.contentType`) in words, e.g. "PDF document". */
export function describeContentType(contentType: string | undefined): string {
  if (!contentType) return 'File of unknown type';
  const essence = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return CONTENT_TYPE_LABELS[essence] ?? essence;
}
