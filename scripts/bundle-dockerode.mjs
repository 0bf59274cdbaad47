// After tsc: dockerode and docker-modem, as installed, bundled into one file (dist/vendor/dockerode.cjs)
// that engine/DockerApi.ts loads, so that the npm package needs no dockerode at install time. dockerode
// depends on ssh2 (with cpu-features, a native build), gRPC and protobufjs, whose install scripts made
// `npm install -g stigmer` warn, for transports stigmer never uses: it dials ssh:// itself
// (engine/sshDialer.ts), builds with the classic builder (no BuildKit session) from its own tar (no tar-fs).
// Those modules are replaced in the bundle by stand-ins that throw, naming this script, if ever called.
// Run by `npm run build`; dockerode is a devDependency.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const left = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'tar-fs'];
const standIn = (name) => `
// ${name} is left out of stigmer's bundle of dockerode (scripts/bundle-dockerode.mjs): nothing stigmer does uses it.
const fail = () => { throw new Error(${JSON.stringify(`${name} is not part of stigmer's bundle of dockerode (scripts/bundle-dockerode.mjs)`)}); };
const standIn = () => new Proxy(function () {}, { get: (_t, key) => (key === '__esModule' ? false : standIn()), apply: fail, construct: fail });
module.exports = standIn();
`;
const licence = (pkg) => {
	const dir = path.dirname(require.resolve(`${pkg}/package.json`));
	const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
	return `${pkg} ${json.version} (${json.license})`;
};
await build({
	entryPoints: [require.resolve('dockerode')],
	outfile: new URL('../dist/vendor/dockerode.cjs', import.meta.url).pathname,
	bundle: true,
	platform: 'node',
	format: 'cjs',
	target: 'node22',
	legalComments: 'inline',
	plugins: [
		{
			// docker-modem calls the legacy url.parse(), which Node 24 warns about (DEP0169, on stderr)
			// unless the caller lies under node_modules/; bundled here it no longer does, so its calls
			// keep the legacy parser and its results, with that one warning held back around them.
			name: 'url-without-dep0169',
			setup(build) {
				build.onResolve({ filter: /^url$/ }, () => ({ path: 'url', namespace: 'url-without-dep0169' }));
				build.onLoad({ filter: /.*/, namespace: 'url-without-dep0169' }, () => ({
					contents: `const url = require('node:url');
module.exports = { ...url, parse(...args) { const before = process.noDeprecation; process.noDeprecation = true; try { return url.parse(...args); } finally { process.noDeprecation = before; } } };`,
					loader: 'js',
				}));
			},
		},
		{
			// docker-modem logs every request with debug('Sending: %s', util.inspect(options, { showHidden:
			// true, depth: null })): the inspection of the request's options (its agent and socket included)
			// ran on every request whether DEBUG asked for it or not, ≈14 ms of `server status`'s CPU for its
			// four requests. Its util's inspect is made lazy: debug's %s stringifies only when enabled.
			name: 'modem-lazy-inspect',
			setup(build) {
				build.onResolve({ filter: /^util$/ }, (args) => (/docker-modem[\\/]lib[\\/]modem\.js$/.test(args.importer) ? { path: 'util', namespace: 'modem-lazy-inspect' } : undefined));
				build.onLoad({ filter: /.*/, namespace: 'modem-lazy-inspect' }, () => ({
					contents: `const util = require('node:util');
const inspect = (...args) => ({ toString: () => util.inspect(...args) });
inspect.custom = util.inspect.custom;
module.exports = { ...util, inspect };`,
					loader: 'js',
				}));
			},
		},
		{
			// docker-modem's http.js requires https (tls, OpenSSL's set-up: ≈7 MB of RSS in a bare Node 24,
			// ≈15 ms of every engine command's CPU) and dockerode's util.js zlib (≈2 MB) when loaded, for a tls:// engine and a gzipped build
			// context; each is required on first use instead, so a process on a unix socket never loads them
			// (the dashboard's memory: docs/architecture.md, "Memory").
			name: 'lazy-builtins',
			setup(build) {
				const importers = { https: /docker-modem[\\/]lib[\\/]http\.js$/, zlib: /dockerode[\\/]lib[\\/]util\.js$/ };
				build.onResolve({ filter: /^(https|zlib)$/ }, (args) => (importers[args.path].test(args.importer) ? { path: args.path, namespace: 'lazy-builtins' } : undefined));
				build.onLoad({ filter: /.*/, namespace: 'lazy-builtins' }, (args) => ({
					contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(`node:${args.path}`)}));
module.exports = new Proxy({}, { get: (_t, key) => load()[key], has: (_t, key) => key in load() });`,
					loader: 'js',
				}));
			},
		},
		{
			name: 'left-out',
			setup(build) {
				const filter = new RegExp(`^(${left.map((m) => m.replace(/[/.]/g, '\\$&')).join('|')})$`);
				build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'left-out' }));
				build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({ contents: standIn(args.path), loader: 'js' }));
			},
		},
	],
	banner: { js: `/* ${['dockerode', 'docker-modem'].map(licence).join(', ')}, bundled by scripts/bundle-dockerode.mjs from the installed packages; left out: ${left.join(', ')} */` },
	logLevel: 'warning',
});
