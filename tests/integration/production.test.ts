import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../../app/config/env.server';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded';
import {
  expectStrictDocumentPolicy,
  parseContentSecurityPolicy,
} from '../support/content-security-policy';
import { demoPatient, PatientClient, readSignInCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const SANDBOX_FHIR_CREDENTIALS = { id: 'sandbox-portal', secret: 'sandbox-portal-secret' };
const SANDBOX_FEDEX_CREDENTIALS = { id: 'sandbox-fedex-client', secret: 'sandbox-fedex-secret' };

/** Returns every setting production requires, with the upstreams on a second, development portal's sandbox. */
function productionSettings(sandboxOrigin: string, databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: 'production-test-secret-of-at-least-32-characters',
    CANVAS_FHIR_BASE_URL: `${sandboxOrigin}/sandbox/fhir`,
    CANVAS_TOKEN_URL: `${sandboxOrigin}/sandbox/fhir/auth/token/`,
    CANVAS_CLIENT_ID: SANDBOX_FHIR_CREDENTIALS.id,
    CANVAS_CLIENT_SECRET: SANDBOX_FHIR_CREDENTIALS.secret,
    SENDGRID_API_KEY: 'SG.sandbox-key',
    SENDGRID_BASE_URL: `${sandboxOrigin}/sandbox/sendgrid`,
    MAIL_FROM: 'care@example.com',
    FEDEX_API_BASE_URL: `${sandboxOrigin}/sandbox/fedex`,
    FEDEX_CLIENT_ID: SANDBOX_FEDEX_CREDENTIALS.id,
    FEDEX_CLIENT_SECRET: SANDBOX_FEDEX_CREDENTIALS.secret,
    ZOOM_API_BASE_URL: `${sandboxOrigin}/sandbox/zoom/v2`,
    ZOOM_OAUTH_URL: `${sandboxOrigin}/sandbox/zoom/oauth/token`,
    ZOOM_ACCOUNT_ID: SANDBOX_CREDENTIALS.zoomAccountId,
    ZOOM_CLIENT_ID: SANDBOX_CREDENTIALS.zoomClientId,
    ZOOM_CLIENT_SECRET: SANDBOX_CREDENTIALS.zoomClientSecret,
    CANVAS_OAUTH_AUTHORIZE_URL: `${sandboxOrigin}/sandbox/canvas-oauth/authorize`,
    CANVAS_OAUTH_TOKEN_URL: `${sandboxOrigin}/sandbox/canvas-oauth/token`,
    CANVAS_OAUTH_CLIENT_ID: SANDBOX_CREDENTIALS.canvasOauthClientId,
    CANVAS_OAUTH_CLIENT_SECRET: SANDBOX_CREDENTIALS.canvasOauthClientSecret,
  };
}

describe('production start', () => {
  it('stops and lists every missing setting', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'production' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(exitCode).toBe(1);
    const missingLine = stderr.split('\n').find((line) => line.includes('Missing settings')) ?? '';
    for (const name of [
      'DATABASE_URL',
      'SESSION_SECRET',
      'CANVAS_FHIR_BASE_URL',
      'CANVAS_TOKEN_URL',
      'CANVAS_CLIENT_ID',
      'CANVAS_CLIENT_SECRET',
      'SENDGRID_API_KEY',
      'MAIL_FROM',
      'FEDEX_API_BASE_URL',
      'FEDEX_CLIENT_ID',
      'FEDEX_CLIENT_SECRET',
      'ZOOM_ACCOUNT_ID',
      'ZOOM_CLIENT_ID',
      'ZOOM_CLIENT_SECRET',
      'CANVAS_OAUTH_CLIENT_ID',
      'CANVAS_OAUTH_CLIENT_SECRET',
    ]) {
      expect(missingLine).toContain(name);
    }
  });
});

describe('production build', () => {
  let upstreams: PortalServer;
  let portal: PortalServer;
  let testDatabase: TestDatabase;
  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string;

  beforeAll(async () => {
    // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    await promisify(execFile)('npx', ['react-router', 'build'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    upstreams = await startPortalServer();

    dataDir = await mkdtemp(path.join(tmpdir(), 'portal-production-'));
    testDatabase = await createTestDatabase();
    if (!testDatabase.url) {
      embedded = await startEmbeddedPostgres({ dataDir, maxConnections: 10 });
    }
    const databaseUrl = testDatabase.url ?? embedded?.url ?? '';
    portal = await startPortalServer(productionSettings(upstreams.baseUrl, databaseUrl));
  });

  afterAll(async () => {
    await portal?.stop();
    await upstreams?.stop();
    await embedded?.stop();
    await testDatabase?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the map in its own small chunk', async () => {
    const assetsDir = path.join(REPO_ROOT, 'build/client/assets');
    const files = await readdir(assetsDir);
    const mapChunk = files.find((file) => /^tracking-map\.client-.*\.js$/.test(file));
    expect(mapChunk).toBeDefined();
    const gzipBytes = gzipSync(await readFile(path.join(assetsDir, mapChunk ?? ''))).byteLength;
    expect(gzipBytes).toBeLessThanOrEqual(50 * 1024);

    const importers: string[] = [];
    for (const file of files.filter((name) => name.endsWith('.js') && name !== mapChunk)) {
      if ((await readFile(path.join(assetsDir, file), 'utf8')).includes(mapChunk ?? ''))
        importers.push(file);
    }
    expect(importers.map((file) => file.replace(/-[\w-]+\.js$/, ''))).toEqual(['shipments.track']);
  });

  it('serves built assets and no sandbox', async () => {
    const html = await (await fetch(`${portal.baseUrl}/login`)).text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"|href="(\/assets\/[^"]+\.js)"/);
    const assetPath = script?.[1] ?? script?.[2];
    expect(assetPath).toBeDefined();

    const asset = await fetch(`${portal.baseUrl}${assetPath}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');

    expect((await fetch(`${portal.baseUrl}/sandbox/mail`)).status).toBe(404);
  });

  it('serves public files beside the pages', async () => {
    const favicon = await fetch(`${portal.baseUrl}/favicon.svg`);
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('cache-control')).toBe('public, max-age=3600');

    const page = await fetch(`${portal.baseUrl}/login`, { headers: { 'accept-encoding': 'br' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-encoding')).toBe('br');
    expect(await page.text()).toContain('</html>');
  });

  it('tells browsers to use HTTPS for a year', async () => {
    const response = await fetch(`${portal.baseUrl}/login`);
    expect(response.headers.get('strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect(response.headers.get('permissions-policy')).toContain('camera=()');
  });

  it('nonces scripts and links styles', async () => {
    const response = await fetch(`${portal.baseUrl}/login`);
    const header = response.headers.get('content-security-policy');
    // Without MAP_TILE_URL, production loads CARTO's tiles.
    expectStrictDocumentPolicy(header, await response.text(), {
      mapTileSource: 'https://*.basemaps.cartocdn.com',
    });
    expect(parseContentSecurityPolicy(header).get('style-src')).toEqual(["'self'"]);
  });

  it('signs in against configured upstreams', async () => {
    const patient = demoPatient(2);
    const client = new PatientClient(portal.baseUrl);
    const since = new Date();
    expect(
      (await client.postJson('/api/patient/auth/send-code', { email: patient.email })).status,
    ).toBe(202);

    const code = await readSignInCode(upstreams.baseUrl, patient.email, since);
    const verify = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code,
    });
    expect(verify.status).toBe(200);
    expect(verify.headers.getSetCookie().join(';')).toMatch(/Secure/);

    const profile = (await (await client.request('/api/patient/profile')).json()) as {
      name: { first: string };
    };
    expect(profile.name.first).toBe(patient.givenName);
  });
});
