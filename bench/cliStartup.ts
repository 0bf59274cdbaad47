// Start-up cost of short commands: `stigmer --help` (issue 23's goal ≤ 80 ms) and `server status
// --json` (goal ≤ 150 ms; neither loads dockerode) with Node's compile cache (the user's own, compileCache.ts),
// on a first run (an empty cache directory each time) and without it, beside the docker CLI doing a
// comparable engine round trip (and the ratios to it and to `node -e 0`). Wall time and CPU time (user + system of the child,
// from /proc/self/stat), medians, runs interleaved so a loaded machine weighs on every row alike.
// The engine is the one DOCKER_HOST names (default: the local socket).
// Also: `node -e 0` (Node's own floor), `pm2 --version` (pm2 5, another Node CLI) and, with
// STIGMER_BENCH_HOME=DIR naming a home whose stack runs, `server status` (the table) against it.
// Run: npm run build && node --import tsx bench/cliStartup.ts [runs] [--base OTHER_CHECKOUT/dist/cli.js]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './benchStats.js';
import { issue23 as goal, verdict } from './goals.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const baseIndex = args.indexOf('--base');
const base = baseIndex >= 0 ? args.splice(baseIndex, 2)[1] : undefined;
const runs = Number(args[0] ?? 9);
const cli = path.join(root, 'dist', 'cli.js');
const home = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-startup-'));
const made = [home];
writeFileSync(path.join(home, 'config.yaml'), 'services: {}\n');

/** CPU time of the waited-for children so far, in ms (clock ticks of 10 ms). */
function childrenCpuMs(): number {
	const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
	return (Number(fields[13]) + Number(fields[14])) * 10;
}

type Case = { program: string; args: string[]; env?: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv) };
const node = process.execPath;
const cases: Record<string, Case> = {
	'stigmer --help': { program: node, args: [cli, '--help'] },
	'server status --json': { program: node, args: [cli, '--home', home, 'server', 'status', '--json'] },
	'server status --json, first run (empty cache)': {
		program: node,
		args: [cli, '--home', home, 'server', 'status', '--json'],
		env: () => {
			const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-cache-'));
			made.push(dir);
			return { XDG_CACHE_HOME: dir };
		},
	},
	'server status --json, no compile cache': { program: node, args: [cli, '--home', home, 'server', 'status', '--json'], env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
	'docker ps -a --filter (docker CLI)': { program: 'docker', args: ['ps', '-a', '--filter', 'label=ai.stigmer.bench=none'] },
	'node -e 0 (Node itself)': { program: node, args: ['-e', '0'] },
};
// STIGMER_BENCH_HOME: a home whose stack runs (`server status` then asks a running container, as a user's does)
const running = process.env.STIGMER_BENCH_HOME;
if (running) {
	cases['server status, running stack (table)'] = { program: node, args: [cli, '--home', running, 'server', 'status'] };
	if (base) cases['base: server status, running stack (table)'] = { program: node, args: [base, '--home', running, 'server', 'status'] };
}
// `pm2 --version` starts pm2's daemon (its God Daemon, ~72 MB) in PM2_HOME, which outlives the bench
// unless it is told to go: `pm2 kill` at the end
let pm2Bin: string | undefined;
// pm2 5 (as bench/dashboard.ts runs it) when npx can fetch it: `pm2 --version`, another Node CLI's start-up
try {
	const pm2 = execFileSync('npx', ['--yes', '-p', 'pm2@5', '-c', 'command -v pm2'], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, PM2_HOME: home } }).trim();
	cases['pm2 --version (pm2 5)'] = { program: node, args: [pm2, '--version'], env: { PM2_HOME: home } };
	pm2Bin = pm2;
} catch {
	console.log('(pm2 not measured: npx could not fetch pm2@5)');
}
if (base) {
	cases['base: stigmer --help'] = { program: node, args: [base, '--help'] };
	cases['base: server status --json'] = { program: node, args: [base, '--home', home, 'server', 'status', '--json'] };
}

const results = new Map(Object.keys(cases).map((name) => [name, { wall: [] as number[], cpu: [] as number[] }]));
for (let i = 0; i < runs; i++) {
	for (const [name, c] of Object.entries(cases)) {
		const cpu = childrenCpuMs();
		const started = performance.now();
		const env = typeof c.env === 'function' ? c.env() : c.env;
		const r = spawnSync(c.program, c.args, { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
		const wall = performance.now() - started;
		if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
		results.get(name)!.wall.push(wall);
		results.get(name)!.cpu.push(childrenCpuMs() - cpu);
	}
}
const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
console.log(
	`start-up, median of ${runs} runs (Node ${process.version}, ${os.cpus().length} cores, load ${os
		.loadavg()
		.map((l) => l.toFixed(1))
		.join(' ')})`,
);
const reference = median(results.get('docker ps -a --filter (docker CLI)')!.wall);
const bareNode = results.get('node -e 0 (Node itself)')!;
for (const [name, r] of results)
	console.log(
		`${name.padEnd(46)} wall ${s(median(r.wall)).padEnd(9)} cpu ${s(median(r.cpu)).padEnd(9)} ${(median(r.wall) / reference).toFixed(1)} × docker ps, ${(median(r.wall) / median(bareNode.wall)).toFixed(1)} × node -e 0 (cpu ${(median(r.cpu) / median(bareNode.cpu)).toFixed(1)} ×)`,
	);
const judged: Array<[string, number]> = [
	['stigmer --help', goal.helpMs],
	['server status --json', goal.statusMs],
	['server status, running stack (table)', goal.statusMs],
];
for (const [name, ms] of judged) {
	const r = results.get(name);
	if (r) console.log(`goal (issue 23, bench/goals.ts): ${name} ≤ ${ms} ms on a quiet machine: ${median(r.wall).toFixed(0)} ms, ${verdict(median(r.wall) <= ms)}`);
}
if (pm2Bin) {
	try {
		execFileSync(node, [pm2Bin, 'kill'], { stdio: 'ignore', timeout: 30_000, env: { ...process.env, PM2_HOME: home } });
	} catch {
		console.log(`(pm2's daemon may still run: PM2_HOME=${home} pm2 kill)`);
	}
}
for (const dir of made) rmSync(dir, { recursive: true, force: true });
