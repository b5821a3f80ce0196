import { readFileSync } from 'node:fs';

import type { Communication } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';

import { formatByteSize } from './message';
import {
  attachmentSize,
  describeContentType,
  sanitizeMessageHtml,
  toMessageParts,
} from './message-parts.server';

function officialExample(fileName: string): Communication {
  const url = new URL(`../../../shared/fixtures/fhir-r4/${fileName}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Communication;
}

describe('sanitizeMessageHtml', () => {
  it('keeps the allowed formatting', () => {
    const html =
      '<p>Take it <strong>with food</strong>.</p><ul><li>one</li><li><em>two</em></li></ul>';
    expect(sanitizeMessageHtml(html)).toBe(html);
  });

  it('removes scripts, styles and their content', () => {
    const html = '<p>Hi</p><script>alert(1)</script><style>p{display:none}</style>';
    expect(sanitizeMessageHtml(html)).toBe('<p>Hi</p>');
  });

  it('removes event handlers, inline styles and classes', () => {
    const html =
      '<p onclick="steal()" style="color:red" class="x">Hi</p><img src=x onerror="steal()">';
    expect(sanitizeMessageHtml(html)).toBe('<p>Hi</p>');
  });

  it('drops javascript: and data: links but keeps their text', () => {
    expect(sanitizeMessageHtml('<a href="javascript:steal()">results</a>')).toBe(
      '<a rel="noopener noreferrer nofollow">results</a>',
    );
    expect(sanitizeMessageHtml('<a href="data:text/html,x">x</a>')).toBe(
      '<a rel="noopener noreferrer nofollow">x</a>',
    );
  });

  it('keeps https links and adds rel', () => {
    expect(sanitizeMessageHtml('<a href="https://example.org/a" target="_top">a</a>')).toBe(
      '<a href="https://example.org/a" rel="noopener noreferrer nofollow">a</a>',
    );
  });

  it('keeps the text of tags outside the allow-list, escaped', () => {
    expect(
      sanitizeMessageHtml('<div><h1>Title</h1><table><tr><td>1 &lt; 2</td></tr></table></div>'),
    ).toBe('Title1 &lt; 2');
  });

  it('removes iframes, forms and SVG with their scripts', () => {
    const html =
      '<iframe src="https://evil.example"></iframe><form action="/x"><input name="a"></form><svg><script>x()</script></svg>ok';
    expect(sanitizeMessageHtml(html)).toBe('ok');
  });
});

describe('toMessageParts', () => {
  it('keeps text the patient wrote as text, even when it looks like HTML', () => {
    expect(toMessageParts([{ contentString: 'I took <b>two</b> today' }], true)).toEqual([
      { kind: 'text', text: 'I took <b>two</b> today' },
    ]);
  });

  it('sanitizes HTML from the care team', () => {
    expect(
      toMessageParts([{ contentString: '<p>Hello</p><img src=x onerror=alert(1)>' }], false),
    ).toEqual([{ kind: 'html', html: '<p>Hello</p>' }]);
  });

  it('keeps plain care-team text as text', () => {
    expect(toMessageParts([{ contentString: 'Dose: 1 < 2 tablets\nDaily' }], false)).toEqual([
      { kind: 'text', text: 'Dose: 1 < 2 tablets\nDaily' },
    ]);
  });

  it('drops a care-team message part that is empty once sanitized', () => {
    expect(toMessageParts([{ contentString: '<script>x()</script>' }], false)).toEqual([]);
  });

  it('reads the text and the contentReference of the official example', () => {
    const parts = toMessageParts(officialExample('communication-example.json').payload, false);
    expect(parts).toEqual([
      {
        kind: 'text',
        text: 'Patient 1 has a very high serum potassium value (7.2 mmol/L on 2014-Dec-12 at 5:55 pm)',
      },
      { kind: 'reference', label: 'Serum Potassium Observation' },
    ]);
  });

  it('names both attachments of the official attachment example with type and size', () => {
    const parts = toMessageParts(
      officialExample('communication-example-fm-attachment.json').payload,
      false,
    );
    expect(parts).toEqual([
      {
        kind: 'attachment',
        title: 'accident notes 20100201.pdf',
        contentType: 'application/pdf',
        typeLabel: 'PDF document',
        // "SGVsbG8=" is the base64 of "Hello".
        sizeBytes: 5,
      },
      {
        kind: 'attachment',
        title: 'Unnamed attachment',
        contentType: 'application/pdf',
        typeLabel: 'PDF document',
        sizeBytes: 104274,
      },
    ]);
  });
});

describe('attachment details', () => {
  it('computes the size of base64 data with and without padding', () => {
    expect(attachmentSize({ data: 'SGVsbG8=' })).toBe(5);
    expect(attachmentSize({ data: 'SGVsbG8h' })).toBe(6);
    expect(attachmentSize({ data: 'SGk=' })).toBe(2);
    expect(attachmentSize({ data: 'SA==' })).toBe(1);
    expect(attachmentSize({})).toBeUndefined();
  });

  it('names common types and falls back to the MIME type', () => {
    expect(describeContentType('application/pdf; charset=binary')).toBe('PDF document');
    expect(describeContentType('IMAGE/PNG')).toBe('PNG image');
    expect(describeContentType('application/zip')).toBe('application/zip');
    expect(describeContentType(undefined)).toBe('File of unknown type');
  });

  it('formats sizes for people', () => {
    expect(formatByteSize(1)).toBe('1 byte');
    expect(formatByteSize(1023)).toBe('1023 bytes');
    expect(formatByteSize(1536)).toBe('1.5 KB');
    expect(formatByteSize(104274)).toBe('102 KB');
    expect(formatByteSize(5 * 1024 * 1024)).toBe('5 MB');
  });
});
