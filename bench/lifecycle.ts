// Figures of the lifecycle issue, measured on the real engine (image present):
//   server start, all stopped → all ready        vs docker-compose up -d + polling /readyz (same run)
//   server start when already running
//   server status --json
//   stigmer --help
//   server stop (services exit on SIGTERM)
// Run: npm run build && node --import tsx bench/lifecycle.ts [runs]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median } from './benchStats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 7);
const cli = path.join(root, 'dist', 'cli.js');
const home = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-'));
const port = 7560;
const nativePort = 7561;

function time(program: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
	const t = performance.now();
	const r = spawnSync(program, args, { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
	const ms = performance.now() - t;
	if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
	return ms;
}
const stigmer = (...args: string[]) => time(process.execPath, [cli, '--home', home, ...args]);
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		try {
			if ((await fetch(url)).status === 200) return;
		} catch {
			// not yet
		}
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`${url} not ready`);
}

async function composeStart(composeHome: string): Promise<number> {
	const env = { STIGMER_HOME: composeHome, STIGMER_PORT: String(port + 10), STIGMER_CONTAINER_NAME: 'stigmer-bench-compose' };
	const t = performance.now();
	time('docker-compose', ['-f', 'docker/compose.yaml', '-p', 'stigmerbench', 'up', '-d', '--no-build'], env);
	await waitReady(`http://127.0.0.1:${port + 10}/readyz`);
	const ms = performance.now() - t;
	time('docker-compose', ['-f', 'docker/compose.yaml', '-p', 'stigmerbench', 'down', '-t', '5'], env);
	return ms;
}

async function main(): Promise<void> {
	const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
	writeFileSync(path.join(home, 'config.yaml'), `agentRunner:\n  port: ${port}\nservices: {}\n`);
	stigmer('server', 'start'); // builds the image if it is missing; not measured
	stigmer('server', 'stop');

	const composeHome = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-compose-'));
	for (const d of ['workspace', 'data/agent-runner', 'secrets']) mkdirSync(path.join(composeHome, d), { recursive: true });
	writeFileSync(path.join(composeHome, 'secrets', 'api-token'), 'bench-token\n', { mode: 0o644 });
	execFileSync('chown', ['-R', '10001:10001', path.join(composeHome, 'workspace'), path.join(composeHome, 'data')]);

	const cold: number[] = [];
	const compose: number[] = [];
	for (let i = 0; i < runs; i++) {
		cold.push(stigmer('server', 'start'));
		stigmer('server', 'stop');
		if (hasCompose) compose.push(await composeStart(composeHome));
	}

	// With a native service (exits on SIGTERM) beside the container, for the other figures.
	writeFileSync(
		path.join(home, 'config.yaml'),
		`agentRunner:\n  port: ${port}\nservices:\n  api:\n    command: [node, ${path.join(root, 'test/fixtures/native-server.mjs')}]\n    args: [--port, "${nativePort}"]\n    ready: { tcp: ${nativePort} }\n`,
	);
	const warm: number[] = [];
	const status: number[] = [];
	const help: number[] = [];
	const stop: number[] = [];
	for (let i = 0; i < runs; i++) {
		stigmer('server', 'start');
		warm.push(stigmer('server', 'start'));
		status.push(stigmer('server', 'status', '--json'));
		help.push(time(process.execPath, [cli, '--help']));
		stop.push(stigmer('server', 'stop'));
	}

	const rows: Array<[string, string, string]> = [
		['server start, all stopped → ready', fmt(median(cold)), '≤ 3 s'],
		...(hasCompose
			? ([
					['docker-compose up -d + /readyz polling', fmt(median(compose)), 'reference'],
					['ratio stigmer / compose', (median(cold) / median(compose)).toFixed(2), '≤ 1.2'],
				] as Array<[string, string, string]>)
			: ([['docker-compose', 'not installed (apt-get install docker-compose)', '']] as Array<[string, string, string]>)),
		['server start when running', fmt(median(warm)), '≤ 0.5 s'],
		['server status --json', fmt(median(status)), '≤ 0.3 s'],
		['stigmer --help', fmt(median(help)), '≤ 0.15 s'],
		['server stop (SIGTERM-clean services)', fmt(median(stop)), '≤ 2 s'],
	];
	console.log(`lifecycle figures, median of ${runs} runs (Node ${process.version}, ${os.cpus().length} cores)`);
	for (const [name, value, goal] of rows) console.log(`${name.padEnd(42)} ${value.padEnd(12)} ${goal}`);
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
