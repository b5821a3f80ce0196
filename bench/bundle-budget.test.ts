import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import {
  findBundleFailures,
  MAP_CHUNK_BUDGET_BYTES,
  MAP_ROUTE_ID,
  parseImports,
  readRouteBundles,
  ROUTE_JS_BUDGET_BYTES,
} from './bundle-budget';

let assetsDir: string | undefined;

afterEach(async () => {
  if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  assetsDir = undefined;
});

/** Writes a small client build: files by name, and React Router's manifest for the routes. */
async function writeBuild(
  files: Record<string, string>,
  routes: Record<string, { module: string; imports?: string[]; hasDefaultExport?: boolean }>,
): Promise<string> {
  assetsDir = await mkdtemp(path.join(tmpdir(), 'bundle-budget-'));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(assetsDir, name), content);
  }
  const manifest = {
    entry: { module: '/assets/entry.client-a.js', imports: ['/assets/react-a.js'], css: [] },
    routes: Object.fromEntries(
      Object.entries(routes).map(([id, route]) => [
        id,
        {
          id,
          hasDefaultExport: route.hasDefaultExport ?? true,
          module: `/assets/${route.module}`,
          imports: (route.imports ?? []).map((file) => `/assets/${file}`),
          css: [],
        },
      ]),
    ),
  };
  await writeFile(
    path.join(assetsDir, 'manifest-1.js'),
    `window.__reactRouterManifest=${JSON.stringify(manifest)};`,
  );
  return assetsDir;
}

/** Random text whose gzip size is more than `bytes`: base64 packs 6 random bits per character. */
function incompressible(bytes: number): string {
  return `/*${randomBytes(bytes).toString('base64')}*/`;
}

const gzipBytes = (text: string) => gzipSync(text).byteLength;

describe('readRouteBundles', () => {
  it('counts the entry, root, route and their static imports, and keeps import() apart', async () => {
    const files = {
      'entry.client-a.js': 'import{a}from"./react-a.js";',
      'react-a.js': 'export const a=1;',
      'root-a.js': 'import"./react-a.js";import{s}from"./shared-a.js";const c="/assets/app-a.css";',
      'shared-a.js': 'export const s=2;',
      'app-a.css': 'body{color:red}',
      'list-a.js': 'import{s}from"./shared-a.js";',
      'track-a.js':
        'const d=["assets/tracking-map.client-a.js","assets/leaflet-a.css"];import("./tracking-map.client-a.js");',
      'tracking-map.client-a.js': 'import{l}from"./leaflet-a.js";',
      'leaflet-a.js': 'export const l=3;',
      'leaflet-a.css': '.leaflet{}',
      'api-a.js': '',
    };
    const dir = await writeBuild(files, {
      root: { module: 'root-a.js', imports: ['react-a.js'] },
      'routes/list': { module: 'list-a.js' },
      [MAP_ROUTE_ID]: { module: 'track-a.js' },
      'routes/api': { module: 'api-a.js', hasDefaultExport: false },
    });

    const bundles = await readRouteBundles(dir);
    expect(bundles.map((bundle) => bundle.routeId)).toEqual(['routes/list', MAP_ROUTE_ID]);
    const [list, track] = bundles;
    expect(new Set(list?.initialJs)).toEqual(
      new Set([
        'manifest-1.js',
        'entry.client-a.js',
        'react-a.js',
        'root-a.js',
        'shared-a.js',
        'list-a.js',
      ]),
    );
    expect(list?.lazyJs).toEqual([]);
    expect(list?.css).toEqual(['app-a.css']);
    expect(track?.lazyJs.sort()).toEqual(['leaflet-a.js', 'tracking-map.client-a.js']);
    expect(track?.css.sort()).toEqual(['app-a.css', 'leaflet-a.css']);
    expect(track?.lazyJsGzipBytes).toBe(
      gzipBytes(files['tracking-map.client-a.js']) + gzipBytes(files['leaflet-a.js']),
    );
    expect(list?.cssGzipBytes).toBe(gzipBytes(files['app-a.css']));
  });

  it('fails a route over the JavaScript budget, the map on another route and a big map', async () => {
    const dir = await writeBuild(
      {
        'entry.client-a.js': 'import"./react-a.js";',
        'react-a.js': incompressible(ROUTE_JS_BUDGET_BYTES),
        'root-a.js': '',
        'heavy-a.js': 'import("./tracking-map.client-a.js");',
        'light-a.js': '',
        'track-a.js': 'import"./tracking-map.client-a.js";',
        'tracking-map.client-a.js': incompressible(MAP_CHUNK_BUDGET_BYTES),
      },
      {
        root: { module: 'root-a.js' },
        'routes/heavy': { module: 'heavy-a.js' },
        [MAP_ROUTE_ID]: { module: 'track-a.js' },
      },
    );
    const bundles = await readRouteBundles(dir);
    const failures = findBundleFailures(bundles, MAP_CHUNK_BUDGET_BYTES + 1);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routes\/heavy loads [\d.]+ KB of JavaScript, more than 130 KB$/),
        'routes/heavy loads the map chunk tracking-map.client-a.js',
        `${MAP_ROUTE_ID} does not load the map chunk lazily`,
        expect.stringMatching(/^the map chunk is [\d.]+ KB, more than 50 KB$/),
      ]),
    );
  });
});

describe('parseImports', () => {
  it('reads minified static, side-effect and dynamic imports', () => {
    expect(
      parseImports('import{a as b}from"./x-1.js";import"./y-2.js";const m=()=>import("./z-3.js");'),
    ).toEqual({ static: ['x-1.js', 'y-2.js'], dynamic: ['z-3.js'] });
  });
});
