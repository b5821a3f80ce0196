import { describe, expect, it } from 'vitest';

import { judgeAuditReport } from './audit-dependencies';

/** The shape of `npm audit --json` from npm 7 on, trimmed to what the verdict reads. */
function report(
  counts: Record<string, number>,
  vulnerabilities: Record<string, { severity: string }> = {},
): string {
  return JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, ...counts } },
  });
}

describe('judgeAuditReport', () => {
  it('passes a report with no advisories', () => {
    expect(judgeAuditReport(report({ high: 0, critical: 0 })).kind).toBe('clean');
  });

  it('passes low and moderate advisories', () => {
    const verdict = judgeAuditReport(
      report({ low: 2, moderate: 1, high: 0, critical: 0 }, { cookie: { severity: 'low' } }),
    );
    expect(verdict.kind).toBe('clean');
  });

  it('fails on a high advisory', () => {
    const verdict = judgeAuditReport(
      report({ high: 1, critical: 0 }, { 'path-to-regexp': { severity: 'high' } }),
    );
    expect(verdict).toEqual({
      kind: 'vulnerable',
      counts: { info: 0, low: 0, moderate: 0, high: 1, critical: 0 },
      packages: ['path-to-regexp (high)'],
    });
  });

  it('fails on a critical advisory', () => {
    const verdict = judgeAuditReport(
      report({ high: 0, critical: 1 }, { 'form-data': { severity: 'critical' } }),
    );
    expect(verdict.kind).toBe('vulnerable');
  });

  it('reports a refused advisory endpoint', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST /-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    });
    expect(judgeAuditReport(refused)).toEqual({
      kind: 'unavailable',
      reason: '405 Method Not Allowed - POST /-/npm/v1/security/advisories/bulk',
    });
  });

  it('reports output that is not JSON', () => {
    expect(judgeAuditReport('npm ERR! network').kind).toBe('unavailable');
  });
});
