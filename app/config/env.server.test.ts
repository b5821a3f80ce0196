import { describe, expect, it } from 'vitest';

import { EnvError, parseEnv, SANDBOX_CREDENTIALS } from './env.server';

const REAL_SETTINGS = {
  DATABASE_URL: 'postgres://portal@db.internal:5432/portal',
  SESSION_SECRET: 'x'.repeat(40),
  CANVAS_FHIR_BASE_URL: 'https://fumage-example.canvasmedical.com',
  CANVAS_TOKEN_URL: 'https://example.canvasmedical.com/auth/token/',
  CANVAS_CLIENT_ID: 'client',
  CANVAS_CLIENT_SECRET: 'secret',
  SENDGRID_API_KEY: 'SG.key',
  MAIL_FROM: 'care@example.com',
  FEDEX_API_BASE_URL: 'https://apis.fedex.com',
  FEDEX_CLIENT_ID: 'fedex-client',
  FEDEX_CLIENT_SECRET: 'fedex-secret',
  ZOOM_ACCOUNT_ID: 'zoom-account',
  ZOOM_CLIENT_ID: 'zoom-client',
  ZOOM_CLIENT_SECRET: 'zoom-secret',
  CANVAS_OAUTH_AUTHORIZE_URL: 'https://example.canvasmedical.com/auth/authorize/',
  CANVAS_OAUTH_TOKEN_URL: 'https://example.canvasmedical.com/auth/token/',
  CANVAS_OAUTH_CLIENT_ID: 'sso-client',
  CANVAS_OAUTH_CLIENT_SECRET: 'sso-secret',
};

describe('parseEnv', () => {
  it('falls back to the sandbox outside production', () => {
    const env = parseEnv({ PORT: '4000' });
    expect(env.fhir.mode).toBe('sandbox');
    expect(env.fhir.baseUrl).toBe('http://127.0.0.1:4000/sandbox/fhir');
    expect(env.sendgrid.mode).toBe('sandbox');
    expect(env.fedex).toEqual({
      mode: 'sandbox',
      baseUrl: 'http://127.0.0.1:4000/sandbox/fedex',
      clientId: SANDBOX_CREDENTIALS.fedexClientId,
      clientSecret: SANDBOX_CREDENTIALS.fedexClientSecret,
    });
    expect(env.database.mode).toBe('embedded');
    expect(env.usesSandbox).toBe(true);
  });

  it('uses real upstreams when configured', () => {
    const env = parseEnv({ ...REAL_SETTINGS, NODE_ENV: 'production' });
    expect(env.fhir).toMatchObject({ mode: 'real', baseUrl: REAL_SETTINGS.CANVAS_FHIR_BASE_URL });
    expect(env.sendgrid).toMatchObject({ mode: 'real', from: 'care@example.com' });
    expect(env.fedex).toEqual({
      mode: 'real',
      baseUrl: 'https://apis.fedex.com',
      clientId: 'fedex-client',
      clientSecret: 'fedex-secret',
    });
    expect(env.zoom).toEqual({
      mode: 'real',
      apiBaseUrl: 'https://api.zoom.us/v2',
      oauthUrl: 'https://zoom.us/oauth/token',
      accountId: 'zoom-account',
      clientId: 'zoom-client',
      clientSecret: 'zoom-secret',
      userId: 'me',
    });
    expect(env.database).toMatchObject({ mode: 'external', url: REAL_SETTINGS.DATABASE_URL });
    expect(env.usesSandbox).toBe(false);
  });

  it('lists every missing setting in production', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrowError(EnvError);
    try {
      parseEnv({ NODE_ENV: 'production' });
    } catch (error) {
      const message = (error as Error).message;
      for (const name of Object.keys(REAL_SETTINGS)) expect(message).toContain(name);
    }
  });

  it('rejects a partly configured upstream', () => {
    expect(() => parseEnv({ CANVAS_FHIR_BASE_URL: 'https://fhir.example.com' })).toThrowError(
      /CANVAS_TOKEN_URL, CANVAS_CLIENT_ID, CANVAS_CLIENT_SECRET/,
    );
  });

  it('rejects a partly configured FedEx', () => {
    expect(() => parseEnv({ FEDEX_CLIENT_ID: 'fedex-client' })).toThrowError(
      /FEDEX_API_BASE_URL, FEDEX_CLIENT_SECRET/,
    );
  });

  it('keeps the sandbox while only FedEx is real', () => {
    const env = parseEnv({
      FEDEX_API_BASE_URL: REAL_SETTINGS.FEDEX_API_BASE_URL,
      FEDEX_CLIENT_ID: REAL_SETTINGS.FEDEX_CLIENT_ID,
      FEDEX_CLIENT_SECRET: REAL_SETTINGS.FEDEX_CLIENT_SECRET,
    });
    expect(env.fedex.mode).toBe('real');
    expect(env.usesSandbox).toBe(true);
  });

  it('rejects a malformed value with its name', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrowError(/PORT/);
    expect(() => parseEnv({ DATABASE_URL: 'not a url' })).toThrowError(/DATABASE_URL/);
  });

  it('treats empty values as unset', () => {
    expect(parseEnv({ DATABASE_URL: '' }).database.mode).toBe('embedded');
  });

  it('accepts WRITE_LIMIT_PER_WINDOW only outside production', () => {
    expect(parseEnv({ WRITE_LIMIT_PER_WINDOW: '3' }).writeLimitPerWindow).toBe(3);
    expect(parseEnv({ WRITE_LIMIT_PER_WINDOW: '' }).writeLimitPerWindow).toBeUndefined();
    expect(() => parseEnv({ WRITE_LIMIT_PER_WINDOW: '0' })).toThrowError(/WRITE_LIMIT_PER_WINDOW/);
    expect(() =>
      parseEnv({ ...REAL_SETTINGS, NODE_ENV: 'production', WRITE_LIMIT_PER_WINDOW: '3' }),
    ).toThrowError(/WRITE_LIMIT_PER_WINDOW is for tests/);
  });

  it('picks the map tiles by mode', () => {
    expect(parseEnv({}).mapTiles).toEqual({
      urlTemplate: '/sandbox/map-tiles/{z}/{x}/{y}{r}.png',
      imageSource: undefined,
    });
    expect(parseEnv({ ...REAL_SETTINGS, NODE_ENV: 'production' }).mapTiles).toEqual({
      urlTemplate: 'https://{s}.basemaps.cartocdn.com/rastertiles/voyager/{z}/{x}/{y}{r}.png',
      imageSource: 'https://*.basemaps.cartocdn.com',
    });
    expect(parseEnv({ MAP_TILE_URL: 'http://127.0.0.1:4100/t/{z}/{x}/{y}.png' }).mapTiles).toEqual({
      urlTemplate: 'http://127.0.0.1:4100/t/{z}/{x}/{y}.png',
      imageSource: 'http://127.0.0.1:4100',
    });
  });

  it('rejects an unusable MAP_TILE_URL', () => {
    expect(() => parseEnv({ MAP_TILE_URL: 'https://tiles.example.org/{z}/{x}.png' })).toThrowError(
      /MAP_TILE_URL: The tile URL must contain \{y\}/,
    );
  });

  it('reads the resilience settings with their defaults', () => {
    const defaults = parseEnv({});
    expect(defaults.upstreamBudgetMs).toBe(8_000);
    expect(defaults.circuitBreaker).toEqual({ failureThreshold: 5, openMs: 30_000 });
    expect(defaults.databaseTimeouts).toEqual({ connectMs: 5_000, queryMs: 10_000 });

    const set = parseEnv({
      UPSTREAM_BUDGET_MS: '2500',
      CIRCUIT_BREAKER_FAILURES: '6',
      CIRCUIT_BREAKER_OPEN_MS: '2000',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DATABASE_QUERY_TIMEOUT_MS: '1500',
    });
    expect(set.upstreamBudgetMs).toBe(2_500);
    expect(set.circuitBreaker).toEqual({ failureThreshold: 6, openMs: 2_000 });
    expect(set.databaseTimeouts).toEqual({ connectMs: 1_000, queryMs: 1_500 });
    expect(() => parseEnv({ UPSTREAM_BUDGET_MS: '0' })).toThrowError(/UPSTREAM_BUDGET_MS/);
  });
});
