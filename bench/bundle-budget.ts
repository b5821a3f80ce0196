/**
 * Bundle budget: the JavaScript and CSS a phone downloads for each page of the production build,
 * gzip-compressed at zlib level 6 (browsers that accept Brotli get a little less).
 *
 * A document request for a route loads React Router's manifest, the client entry, the root
 * route's module and the route's own module, each with every module it imports statically. These
 * are the route's initial JavaScript. A chunk a module loads with `import()` (the tracking map)
 * comes after the page is interactive and is counted apart, as lazy JavaScript. The figures are
 * byte counts of files in build/client, so they are the same on every machine and CI enforces
 * them with `npm run bench:budget`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { kilobytes, verdict, type BenchSection } from './report';

/** Initial JavaScript per route, gzip: React 19 and React Router 7 take about 112 KB of it. */
export const ROUTE_JS_BUDGET_BYTES = 130_000;
/** CSS per route, gzip, lazy stylesheets included. */
export const ROUTE_CSS_BUDGET_BYTES = 20_000;
/** The map's lazy chunk (Leaflet and react-leaflet), gzip. */
export const MAP_CHUNK_BUDGET_BYTES = 50_000;
/** The one route allowed to load the map chunk. */
export const MAP_ROUTE_ID = 'routes/shipments.track';
const MAP_CHUNK_PATTERN = /^tracking-map\.client-[\w-]+\.js$/;

interface ManifestEntry {
  module: string;
  imports?: string[];
  css?: string[];
}

interface RouteManifestEntry extends ManifestEntry {
  id: string;
  path?: string;
  index?: boolean;
  parentId?: string;
  hasDefaultExport: boolean;
}

interface BrowserManifest {
  entry: ManifestEntry;
  routes: Record<string, RouteManifestEntry>;
}

export interface RouteBundle {
  routeId: string;
  /** Initial JavaScript files, as paths under the assets folder. */
  initialJs: string[];
  /** JavaScript loaded with import() from the initial files, and what that imports. */
  lazyJs: string[];
  /** Stylesheets the route's modules name, initial and lazy. */
  css: string[];
  initialJsGzipBytes: number;
  lazyJsGzipBytes: number;
  cssGzipBytes: number;
  cssBytes: number;
}

/** Reads a client build's assets folder and works out every page route's bundle. */
export async function readRouteBundles(assetsDir: string): Promise<RouteBundle[]> {
  const files = await readdir(assetsDir);
  const manifestFile = files.find((file) => /^manifest-[\w-]+\.js$/.test(file));
  if (!manifestFile) throw new Error(`${assetsDir} has no React Router manifest.`);
  const manifestText = await readFile(path.join(assetsDir, manifestFile), 'utf8');
  const manifest = JSON.parse(
    manifestText.slice(manifestText.indexOf('{'), manifestText.lastIndexOf('}') + 1),
  ) as BrowserManifest;

  const texts = new Map<string, string>();
  const text = async (file: string) => {
    let content = texts.get(file);
    if (content === undefined) {
      content = await readFile(path.join(assetsDir, file), 'utf8');
      texts.set(file, content);
    }
    return content;
  };
  const gzipSizes = new Map<string, number>();
  const gzipSize = async (file: string) => {
    let size = gzipSizes.get(file);
    if (size === undefined) {
      size = gzipSync(await readFile(path.join(assetsDir, file))).byteLength;
      gzipSizes.set(file, size);
    }
    return size;
  };

  /** Every module reachable through static imports, and the targets of dynamic ones. */
  const walk = async (roots: string[]) => {
    const staticFiles = new Set<string>();
    const dynamicRoots = new Set<string>();
    const queue = [...roots];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      if (staticFiles.has(file)) continue;
      staticFiles.add(file);
      const imports = parseImports(await text(file));
      queue.push(...imports.static);
      for (const target of imports.dynamic) dynamicRoots.add(target);
    }
    return { staticFiles, dynamicRoots };
  };

  const root = manifest.routes.root;
  if (!root) throw new Error('The manifest has no root route.');
  const bundles: RouteBundle[] = [];
  for (const route of Object.values(manifest.routes)) {
    if (route.id === 'root' || !route.hasDefaultExport) continue;
    const roots = [manifestFile, ...[manifest.entry, root, route].flatMap(moduleFiles)];
    const initial = await walk(roots);
    const lazy = await walk([...initial.dynamicRoots].filter((file) => file.endsWith('.js')));
    const lazyJs = [...lazy.staticFiles].filter((file) => !initial.staticFiles.has(file));
    const css = new Set<string>([root, route].flatMap((entry) => (entry.css ?? []).map(base)));
    for (const file of [...initial.staticFiles, ...lazy.staticFiles]) {
      for (const stylesheet of parseStylesheets(await text(file))) css.add(stylesheet);
    }
    const initialJs = [...initial.staticFiles];
    const sum = async (list: string[], size: (file: string) => Promise<number>) =>
      (await Promise.all(list.map(size))).reduce((total, bytes) => total + bytes, 0);
    bundles.push({
      routeId: route.id,
      initialJs,
      lazyJs,
      css: [...css],
      initialJsGzipBytes: await sum(initialJs, gzipSize),
      lazyJsGzipBytes: await sum(lazyJs, gzipSize),
      cssGzipBytes: await sum([...css], gzipSize),
      cssBytes: await sum([...css], async (file) => Buffer.byteLength(await text(file))),
    });
  }
  return bundles;
}

/** Files of one manifest entry, as names in the assets folder. */
function moduleFiles(entry: ManifestEntry): string[] {
  return [entry.module, ...(entry.imports ?? [])].map(base);
}

function base(assetPath: string): string {
  return path.posix.basename(assetPath);
}

/**
 * Imports of a minified chunk, which Rollup writes as `from"./x.js"`, `import"./x.js"` and
 * `import("./x.js")` with sibling paths.
 */
export function parseImports(code: string): { static: string[]; dynamic: string[] } {
  const staticImports = [...code.matchAll(/(?:from|import)\s*["']\.\/([\w.-]+\.js)["']/g)];
  const dynamicImports = [...code.matchAll(/import\(\s*["']\.\/([\w.-]+\.js)["']\s*\)/g)];
  return {
    static: staticImports.map((match) => match[1] ?? ''),
    dynamic: dynamicImports.map((match) => match[1] ?? ''),
  };
}

/** Stylesheets a chunk names: `?url` imports and Vite's preload lists both write the path. */
function parseStylesheets(code: string): string[] {
  return [...code.matchAll(/["'](?:\/?assets\/|\.\/)([\w.-]+\.css)["']/g)].map(
    (match) => match[1] ?? '',
  );
}

/** Checks the bundles against the budgets and returns what is over. */
export function findBundleFailures(bundles: RouteBundle[], mapChunkGzipBytes: number): string[] {
  const failures: string[] = [];
  for (const bundle of bundles) {
    if (bundle.initialJsGzipBytes > ROUTE_JS_BUDGET_BYTES) {
      failures.push(
        `${bundle.routeId} loads ${kilobytes(bundle.initialJsGzipBytes)} KB of JavaScript, more than ${kilobytes(ROUTE_JS_BUDGET_BYTES)} KB`,
      );
    }
    if (bundle.cssGzipBytes > ROUTE_CSS_BUDGET_BYTES) {
      failures.push(
        `${bundle.routeId} loads ${kilobytes(bundle.cssGzipBytes)} KB of CSS, more than ${kilobytes(ROUTE_CSS_BUDGET_BYTES)} KB`,
      );
    }
    const map = [...bundle.initialJs, ...bundle.lazyJs].find((file) =>
      MAP_CHUNK_PATTERN.test(file),
    );
    if (map && bundle.routeId !== MAP_ROUTE_ID) {
      failures.push(`${bundle.routeId} loads the map chunk ${map}`);
    }
    if (
      bundle.routeId === MAP_ROUTE_ID &&
      !bundle.lazyJs.some((file) => MAP_CHUNK_PATTERN.test(file))
    ) {
      failures.push(`${MAP_ROUTE_ID} does not load the map chunk lazily`);
    }
  }
  if (mapChunkGzipBytes > MAP_CHUNK_BUDGET_BYTES) {
    failures.push(
      `the map chunk is ${kilobytes(mapChunkGzipBytes)} KB, more than ${kilobytes(MAP_CHUNK_BUDGET_BYTES)} KB`,
    );
  }
  return failures;
}

export async function measureBundles(
  assetsDir = path.resolve(import.meta.dirname, '../build/client/assets'),
): Promise<BenchSection> {
  const bundles = await readRouteBundles(assetsDir);
  const mapChunk = (await readdir(assetsDir)).find((file) => MAP_CHUNK_PATTERN.test(file));
  const mapChunkGzipBytes = mapChunk
    ? gzipSync(await readFile(path.join(assetsDir, mapChunk))).byteLength
    : 0;
  const failures = findBundleFailures(bundles, mapChunkGzipBytes);
  if (!mapChunk) failures.push('the build has no map chunk');

  return {
    title: 'Bundle budget',
    method: `
The JavaScript and CSS each page of the production build downloads, gzip at zlib level 6, from
the files in \`build/client/assets\`. Browsers that accept Brotli get slightly fewer bytes. Initial
JavaScript is React Router's manifest, the client entry, the root route and the page's route
module, each with every module it imports statically. Lazy JavaScript is what those modules load
with \`import()\`: only the tracking page has any, the map. CSS counts every stylesheet the page's
modules name, lazy ones included. \`npm run bench:budget\` checks these in CI and fails over
budget: ${kilobytes(ROUTE_JS_BUDGET_BYTES)} KB of initial JavaScript and ${kilobytes(ROUTE_CSS_BUDGET_BYTES)} KB of CSS per page,
${kilobytes(MAP_CHUNK_BUDGET_BYTES)} KB for the map chunk (now ${kilobytes(mapChunkGzipBytes)} KB), and the map on no page but tracking.
`,
    rows: bundles.map((bundle) => ({
      route: bundle.routeId.replace(/^routes\//, ''),
      'initial JS (KB gzip)': kilobytes(bundle.initialJsGzipBytes),
      'lazy JS (KB gzip)': kilobytes(bundle.lazyJsGzipBytes),
      'CSS (KB gzip)': kilobytes(bundle.cssGzipBytes),
      'CSS (KB)': kilobytes(bundle.cssBytes),
      'within budget': verdict(
        bundle.initialJsGzipBytes <= ROUTE_JS_BUDGET_BYTES &&
          bundle.cssGzipBytes <= ROUTE_CSS_BUDGET_BYTES,
      ),
    })),
    failures,
  };
}
