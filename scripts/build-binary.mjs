// `npm run build:binary`: one executable file that needs no Node, dist/bin/stigmer-<platform>-<arch>
// (Node's single executable applications: the Node running this script, with a blob injected by postject).
// It holds the npm package as `npm install -g` would install it (dist/, production node_modules, docker/,
// agent-runner/), pruned of type declarations, source maps and docs, as one brotli-compressed asset that
// source/sea/seaLauncher.ts unpacks into the user's cache on first run. Run after `npm run build`.
//   node scripts/build-binary.mjs [--node PATH] [--out FILE] [--no-strip]
// --node: another Node executable of the same version to inject into (e.g. linux-arm64's, from nodejs.org;
// the archive holds no native module, so it is the same for every platform); README.md, "Install".
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants } from 'node:zlib';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({ options: { node: { type: 'string' }, out: { type: 'string' }, 'no-strip': { type: 'boolean' } } });
const nodeBinary = values.node ?? process.execPath;
const out = path.resolve(values.out ?? path.join(root, 'dist', 'bin', `stigmer-${process.platform}-${process.arch}`));
const work = mkdtempSync(path.join(tmpdir(), 'stigmer-binary-'));
const app = path.join(work, 'app');
const log = (text) => process.stderr.write(`build:binary: ${text}\n`);

mkdirSync(app, { recursive: true });

// 1. the package as npm installs it: its files, then its production dependencies from the lock file
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const part of ['package-lock.json', 'docker', 'agent-runner', 'dist', 'agent-runner-image.json']) {
	if (existsSync(path.join(root, part)))
		cpSync(path.join(root, part), path.join(app, part), { recursive: true, filter: (src) => !/__pycache__|\.pyc$|\.pytest_cache/.test(src) && !src.startsWith(path.join(root, 'dist', 'bin')) });
}
writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ ...manifest, scripts: {} }, null, 2)}\n`);
log('installing the production dependencies (npm ci --omit=dev)');
execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
rmSync(path.join(app, 'package-lock.json'));
rmSync(path.join(app, 'node_modules', '.package-lock.json'), { force: true });

// 2. what no run reads: type declarations, source maps, docs (licences stay)
const pruned = /\.(d\.[mc]?ts|map|md|markdown)$|^(CHANGELOG|HISTORY|README)/i;
const files = [];
const walk = (rel) => {
	for (const entry of readdirSync(path.join(app, rel), { withFileTypes: true })) {
		const child = rel ? `${rel}/${entry.name}` : entry.name;
		if (entry.isDirectory()) walk(child);
		else if (entry.isFile() && !(child.startsWith('node_modules/') && pruned.test(entry.name) && !/licen[cs]e/i.test(entry.name))) files.push(child);
	}
};
walk('');
files.sort();

// 3. one archive (seaLauncher.ts's format), brotli-compressed
const index = [];
const chunks = [];
let offset = 0;
for (const name of files) {
	const data = readFileSync(path.join(app, name));
	index.push([name, statSync(path.join(app, name)).mode & 0o111 ? 0o755 : 0o644, offset, data.length]);
	chunks.push(data);
	offset += data.length;
}
const indexBytes = Buffer.from(JSON.stringify(index));
const header = Buffer.alloc(4);
header.writeUInt32BE(indexBytes.length);
const archive = Buffer.concat([header, indexBytes, ...chunks]);
const compressed = brotliCompressSync(archive, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: archive.length } });
const key = `${manifest.version}-${createHash('sha256').update(archive).digest('hex').slice(0, 16)}`;
writeFileSync(path.join(work, 'app.br'), compressed);
writeFileSync(path.join(work, 'key'), key);
log(`${files.length} files, ${(archive.length / 1e6).toFixed(1)} MB → ${(compressed.length / 1e6).toFixed(1)} MB (brotli), key ${key}`);

// 4. the launcher, one CommonJS file, and the blob
await build({
	entryPoints: [path.join(root, 'source', 'sea', 'seaLauncher.ts')],
	outfile: path.join(work, 'launcher.cjs'),
	bundle: true,
	platform: 'node',
	format: 'cjs',
	target: 'node22',
	logLevel: 'warning',
});
const config = { main: 'launcher.cjs', output: 'sea.blob', disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets: { app: 'app.br', key: 'key' } };
writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(config));
execFileSync(process.execPath, ['--experimental-sea-config', 'sea-config.json'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });

// 5. a copy of Node with the blob injected (macOS: its signature removed before, an ad-hoc one after)
mkdirSync(path.dirname(out), { recursive: true });
rmSync(out, { force: true });
copyFileSync(nodeBinary, out);
chmodSync(out, 0o755);
const darwin = process.platform === 'darwin';
// Node's Linux build carries its symbols (128 → 110 MB without them); stripped before the blob goes in
// (stripping after breaks the injected executable)
if (process.platform === 'linux' && !values['no-strip'] && spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0) execFileSync('strip', ['--strip-all', out]);
if (darwin) execFileSync('codesign', ['--remove-signature', out]); // untested here: no Mac
const { inject } = require('postject');
await inject(out, 'NODE_SEA_BLOB', readFileSync(path.join(work, 'sea.blob')), {
	sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
	...(darwin ? { machoSegmentName: 'NODE_SEA' } : {}),
});
if (darwin) execFileSync('codesign', ['--sign', '-', out]);
rmSync(work, { recursive: true, force: true });
log(`${path.relative(process.cwd(), out)}: ${(statSync(out).size / 1e6).toFixed(1)} MB (Node ${process.version} ${process.platform}-${process.arch})`);
