// The single executable against the npm install of the same build (issue 22), in the same run:
//   `stigmer --help` and `server status --json` (a home with no stack; the engine is asked), alternating
//   binary / npm install, wall-clock medians and the ratio (goal ≤ 1.0); the binary's first run (it
//   unpacks the package into its cache) once per round with an empty cache; the npm tarball, the installed
//   package and the binary's sizes, and the binary compressed as a release would be (gzip -9, xz -9).
// Run: npm run build:binary && node --import tsx bench/binary.ts [runs] [--no-compress]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { installEnv, packAndInstall } from '../test/helpers/npmInstall.js';
import { median } from './benchStats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 9);
const compress = !process.argv.includes('--no-compress');
const binary = path.join(root, 'dist', 'bin', `stigmer-${process.platform}-${process.arch}`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-binary-'));
const home = path.join(tmp, 'home');
const user = path.join(tmp, 'user');
mkdirSync(home);
mkdirSync(user);

function time(program: string, args: string[], env: NodeJS.ProcessEnv): number {
	const t = performance.now();
	const r = spawnSync(program, args, { cwd: tmp, env, stdio: ['ignore', 'ignore', 'pipe'] });
	const ms = performance.now() - t;
	if (r.status !== 0 && !(args.includes('status') && r.status === 3)) throw new Error(`${program} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
	return ms;
}
const du = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

try {
	const env = installEnv(path.join(tmp, 'prefix'), { HOME: user });
	const npm = await packAndInstall(tmp, path.join(tmp, 'prefix'), env);
	const commands: Array<[string, string[]]> = [
		['--help', ['--help']],
		['server status --json', ['--home', home, 'server', 'status', '--json']],
	];
	const rows: Array<[string, string, string]> = [];
	time(binary, ['--version'], env); // unpacked once, as after installing
	for (const [name, args] of commands) {
		const viaBinary: number[] = [];
		const viaNpm: number[] = [];
		// compile caches warm
		for (let i = 0; i < 2; i++) {
			time(npm.bin, args, env);
			time(binary, args, env);
		}
		for (let i = 0; i < runs; i++) {
			viaNpm.push(time(npm.bin, args, env));
			viaBinary.push(time(binary, args, env));
		}
		rows.push([`${name}: binary`, fmt(median(viaBinary)), ''], [`${name}: npm install`, fmt(median(viaNpm)), ''], [`${name}: ratio`, (median(viaBinary) / median(viaNpm)).toFixed(2), '≤ 1.0']);
	}
	const first: number[] = [];
	for (let i = 0; i < Math.min(runs, 5); i++) {
		const cache = path.join(tmp, `first-${i}`);
		first.push(time(binary, ['--version'], { ...env, STIGMER_APP_CACHE: cache }));
		rmSync(cache, { recursive: true, force: true });
	}
	rows.push(['binary first run (unpacks)', fmt(median(first)), '']);
	rows.push(['npm tarball', mb(statSync(npm.tarball).size), ''], ['npm installed', mb(du(npm.root)), ''], ['binary', mb(statSync(binary).size), '≤ 140 MB']);
	if (compress) {
		const size = (program: string, args: string[]) => Number(execFileSync('sh', ['-c', `${program} ${args.join(' ')} -c "$0" | wc -c`, binary], { encoding: 'utf8' }).trim());
		rows.push(['binary, gzip -9', mb(size('gzip', ['-9'])), ''], ['binary, xz -9', mb(size('xz', ['-9', '-T1'])), '≤ 50 MB']);
	}
	const width = Math.max(...rows.map((r) => r[0].length));
	console.log(`single executable vs npm install, median of ${runs} (Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`);
	for (const [k, v, goal] of rows) console.log(`${k.padEnd(width)}  ${v.padEnd(10)}  ${goal}`);
} finally {
	rmSync(tmp, { recursive: true, force: true });
}
