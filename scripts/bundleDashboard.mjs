// dist/dashboard.bundle.js: `stigmer dashboard`'s modules (dist/commands/dashboardModules.js and all it
// imports: the UI, the backends, React, Ink, Yoga) as one minified ES module with React's production
// build. Node loading ~200 files one by one kept each one's source, module record and wrapper; one file
// measured ~10 MB less RSS for React and Ink alone (docs/architecture.md, "Memory"). It sits in dist/
// beside the modules it was made of, and each module of ours keeps its own import.meta.url (the file
// it came from), so every path they build relative to themselves (../package.json, ../vendor/yaml.cjs,
// ./supervisorMain.js) stays what it was. What they load with require() at run time (dockerode and its
// ssh2, loaded lazily) stays in node_modules.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const require = createRequire(import.meta.url);
const inkDir = path.dirname(require.resolve('ink'));
const chalk = createRequire(path.join(inkDir, 'index.js')).resolve('chalk');
const inkRequire = createRequire(path.join(inkDir, 'index.js'));
const ansiTokenizeManifest = inkRequire.resolve('@alcalzone/ansi-tokenize/package.json');
const ansiTokenize = path.join(path.dirname(ansiTokenizeManifest), inkRequire(ansiTokenizeManifest).exports['.'].import);

/** inkPrivate.js reaches Ink's files beside node_modules' Ink: in the bundle, the same files, bundled. */
const inkPrivate = `export const inkOutputModule = () => import(${JSON.stringify(path.join(inkDir, 'output.js'))});
export const inkChalkModule = () => import(${JSON.stringify(chalk)});
export const inkAnsiTokenizeModule = () => import(${JSON.stringify(ansiTokenize)});`;

/**
 * Yoga's loader (Emscripten's) gets its WebAssembly from a data: URL, through fetch() when there is one:
 * on Node 24 that call loads undici, with tls, http2, zlib and the web streams, ≈16 MB of RSS in a bare
 * Node (docs/architecture.md, "Memory"). Without fetch it decodes the same base64 itself.
 */
const yogaWithoutFetch = (file) => {
	const text = readFileSync(file, 'utf8');
	const asked = '"function"!=typeof fetch';
	if (text.split(asked).length !== 3) throw new Error(`${file}: Yoga's loader no longer asks \`${asked}\` twice; see yogaWithoutFetch in scripts/bundleDashboard.mjs`);
	return { contents: text.replaceAll(asked, 'true'), loader: 'js' };
};

const ourModules = {
	name: 'stigmer-modules',
	setup(b) {
		// Ink imports React's devtools only under DEV=true, and that package is not installed
		b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'absent' }));
		b.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({ contents: 'export default {};', loader: 'js' }));
		b.onLoad({ filter: /yoga-wasm-base64-esm\.js$/ }, (args) => yogaWithoutFetch(args.path));
		b.onLoad({ filter: /\.js$/ }, (args) => {
			if (!args.path.startsWith(dist)) return undefined;
			if (args.path === path.join(dist, 'ui', 'inkPrivate.js')) return { contents: inkPrivate, loader: 'js' };
			const own = `new URL(${JSON.stringify(`./${path.relative(dist, args.path)}`)}, import.meta.url).href`;
			return { contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', own), loader: 'js' };
		});
	},
};

await build({
	entryPoints: [path.join(dist, 'commands', 'dashboardModules.js')],
	outfile: path.join(dist, 'dashboard.bundle.js'),
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node22',
	minify: true,
	// every Intl.Segmenter in the bundle (Ink's, string-width's, …) is ui/graphemeSegmenter.ts's, which
	// loads ICU's break iterators (2.7 MB of RSS) only for text with more than single-code-point graphemes
	define: { 'process.env.NODE_ENV': '"production"', 'Intl.Segmenter': 'GraphemeSegmenter' },
	inject: [path.join(dist, 'ui', 'graphemeSegmenter.js')],
	// the CommonJS packages inside (React, Yoga's loader) require Node's built-in modules
	banner: { js: "import { createRequire as createRequireOfBundle } from 'node:module'; const require = createRequireOfBundle(import.meta.url);" },
	legalComments: 'eof',
	plugins: [ourModules],
	logLevel: 'warning',
});
