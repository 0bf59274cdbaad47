// Figures of issue 4 (`stigmer server logs`), on the local engine only:
//   1. `server logs -n 100000` on a container holding 1,000,000 lines vs `docker logs --tail 100000`,
//      same container, alternating runs; medians and their ratio (goal ≤ 1.3)
//   2. follow latency, line written → line printed, p50 / p99 (goal ≤ 100 / ≤ 300 ms), for the
//      container and for a native log file
//   3. `server logs -f` on a ~10,000 lines/s producer for 30 s: rate, lag and RSS per 5 s (goal: no
//      growing lag, RSS ≤ 120 MB and flat)
// The CLI runs compiled (tsc into node_modules/.cache, not dist/), as `npx stigmer` would after a build.
// Usage: npx tsx bench/logs.ts [--runs N] [--seconds S]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { baseImage, labels } from '../source/contract.js';
import { StigmerHome } from '../source/home/StigmerHome.js';
import { formatRfc3339Nano } from '../source/supervisor/NanoClock.js';
import { median, percentile, rssMb } from './benchStats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, seconds: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const producerSeconds = Number(values.seconds);
const runLabel = `ai.stigmer.bench-run=logs-${process.pid}`;
const homes: string[] = [];

function docker(...args: string[]): string {
	return execFileSync('docker', args, { encoding: 'utf8', timeout: 300_000 }).trim();
}

function makeHome(): StigmerHome {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-bench-logs-'));
	homes.push(dir);
	mkdirSync(path.join(dir, 'logs'), { recursive: true });
	return new StigmerHome(dir, false);
}

function runContainer(home: StigmerHome, script: string): string {
	return docker(
		'run',
		'-d',
		'--label',
		`${labels.managed}=true`,
		'--label',
		`${labels.service}=agent-runner`,
		'--label',
		`${labels.home}=${home.hash}`,
		'--label',
		runLabel,
		baseImage,
		'sh',
		'-c',
		script,
	);
}

function cleanup(): void {
	const ids = docker('ps', '-aq', '--filter', `label=${runLabel}`).split('\n').filter(Boolean);
	if (ids.length > 0) docker('rm', '-f', ...ids);
	for (const dir of homes) rmSync(dir, { recursive: true, force: true });
}

function build(): string {
	const out = path.join(root, 'node_modules/.cache/stigmer-bench');
	mkdirSync(out, { recursive: true });
	copyFileSync(path.join(root, 'package.json'), path.join(out, 'package.json'));
	// other work in progress may not type-check; tsc still emits, which is all the bench needs
	spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', root, '--outDir', path.join(out, 'dist')], { stdio: 'ignore' });
	return path.join(out, 'dist/cli.js');
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

function timed(command: string, args: string[]): number {
	const start = process.hrtime.bigint();
	const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'ignore'] });
	if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}`);
	return Number(process.hrtime.bigint() - start) / 1e6;
}

/** rssMb, NaN for a process that is gone. */
function rssMbOrNaN(pid: number): number {
	try {
		return rssMb(pid);
	} catch {
		return Number.NaN;
	}
}

/** `server logs -f …` whose printed lines are handed to onLine with the time they arrived. */
function follower(cli: string, home: StigmerHome, args: string[], onLine: (line: string, nowNs: bigint) => void) {
	const child = spawn(process.execPath, [cli, 'server', 'logs', '--home', home.dir, '-f', '-n', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
	let pending = '';
	child.stdout.setEncoding('utf8');
	child.stdout.on('data', (chunk: string) => {
		const now = process.hrtime.bigint();
		pending += chunk;
		let index: number;
		while ((index = pending.indexOf('\n')) >= 0) {
			onLine(pending.slice(0, index), now);
			pending = pending.slice(index + 1);
		}
	});
	return child;
}

const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
// wall-clock nanoseconds that line up with the container's `date +%s%N`
const wallNs = () => BigInt(Date.now()) * 1_000_000n;

async function tailFigure(cli: string): Promise<void> {
	const home = makeHome();
	const id = runContainer(home, 'seq 1 1000000 | sed "s/^/lorem ipsum dolor sit amet, consectetur adipiscing elit, line /"');
	docker('wait', id);
	const ours: number[] = [];
	const theirs: number[] = [];
	timed('docker', ['logs', '--tail', '100000', id]); // warm the page cache
	for (let i = 0; i < runs; i++) {
		theirs.push(timed('docker', ['logs', '--tail', '100000', id]));
		ours.push(timed(process.execPath, [cli, 'server', 'logs', '--home', home.dir, '-n', '100000']));
	}
	const check = spawnSync(process.execPath, [cli, 'server', 'logs', '--home', home.dir, '-n', '100000', 'agent-runner'], { maxBuffer: 1 << 30, encoding: 'utf8' });
	const lines = check.stdout.split('\n').filter(Boolean);
	console.log(`1. -n 100000 on 1,000,000 lines (${runs} runs each, alternating; output to /dev/null)`);
	console.log(`   docker logs --tail 100000:    median ${ms(median(theirs))}  (${theirs.map((t) => t.toFixed(0)).join(', ')})`);
	console.log(`   stigmer server logs -n 100000: median ${ms(median(ours))}  (${ours.map((t) => t.toFixed(0)).join(', ')})`);
	console.log(`   ratio ${(median(ours) / median(theirs)).toFixed(2)} (goal ≤ 1.3); printed ${lines.length} lines, last "${lines.at(-1)}"`);
}

async function latencyFigure(cli: string): Promise<void> {
	const home = makeHome();
	const samples = 200;
	const id = runContainer(home, `i=0; sleep 2; while [ $i -lt ${samples} ]; do echo "lat $(date +%s%N)"; i=$((i+1)); sleep 0.05; done; sleep 3600`);
	const container: number[] = [];
	const native: number[] = [];
	const child = follower(cli, home, ['agent-runner', 'stigmer-server'], (line, _now) => {
		const now = wallNs();
		const match = /\| (lat|native) (\d+)$/.exec(line);
		if (!match) return;
		const latency = Number(now - BigInt(match[2]!)) / 1e6;
		(match[1] === 'lat' ? container : native).push(latency);
	});
	const file = home.logFile('stigmer-server');
	await sleep(1500);
	for (let i = 0; i < samples; i++) {
		const ns = wallNs();
		appendFileSync(file, `${formatRfc3339Nano(ns)} stdout native ${ns}\n`);
		await sleep(50);
	}
	const deadline = Date.now() + 20_000;
	while ((container.length < samples || native.length < samples) && Date.now() < deadline) await sleep(100);
	child.kill('SIGINT');
	docker('rm', '-f', id);
	console.log('2. follow latency, line written → line printed');
	console.log(`   container (${container.length} lines): p50 ${ms(percentile(container, 50))}, p99 ${ms(percentile(container, 99))}, max ${ms(Math.max(...container))}`);
	console.log(`   native file (${native.length} lines): p50 ${ms(percentile(native, 50))}, p99 ${ms(percentile(native, 99))}, max ${ms(Math.max(...native))}`);
	console.log('   goal: p50 ≤ 100 ms, p99 ≤ 300 ms');
}

async function throughputFigure(cli: string): Promise<void> {
	const home = makeHome();
	// ~10,000 lines/s: 130 lines per batch stamped with the batch's time, ~100 batches per second
	const id = runContainer(home, `sleep 2; end=$(( $(date +%s) + ${producerSeconds} )); while [ $(date +%s) -lt $end ]; do t=$(date +%s%N); seq -f "tp $t %g" 1 130; sleep 0.005; done; sleep 3600`);
	let window: { lines: number; lags: number[] } = { lines: 0, lags: [] };
	let total = 0;
	const child = follower(cli, home, ['agent-runner'], (line) => {
		if (!line.includes('| tp ')) return;
		const t = line.slice(line.indexOf('| tp ') + 5, line.lastIndexOf(' '));
		window.lines++;
		total++;
		if (window.lines % 50 === 0) window.lags.push(Number(wallNs() - BigInt(t)) / 1e6);
	});
	console.log(`3. server logs -f on a ~10,000 lines/s producer for ${producerSeconds} s (every 5 s: rate, lag of printed lines, RSS of the CLI)`);
	const rss: number[] = [];
	await sleep(2000);
	for (let s = 5; s <= producerSeconds + 5; s += 5) {
		for (let k = 0; k < 5; k++) {
			await sleep(1000);
			rss.push(rssMbOrNaN(child.pid!));
		}
		const w = window;
		window = { lines: 0, lags: [] };
		console.log(
			`   t=${String(s).padStart(2)} s  ${String(Math.round(w.lines / 5)).padStart(6)} lines/s  lag p50 ${w.lags.length ? ms(percentile(w.lags, 50)) : '-'}, max ${w.lags.length ? ms(Math.max(...w.lags)) : '-'}  RSS ${rss.at(-1)!.toFixed(0)} MB`,
		);
	}
	child.kill('SIGINT');
	const produced = Number(execFileSync('bash', ['-c', `docker logs ${id} | wc -l`], { encoding: 'utf8' }).trim());
	docker('rm', '-f', id);
	console.log(`   produced ${produced} lines, printed ${total}; RSS max ${Math.max(...rss.filter((x) => !Number.isNaN(x))).toFixed(0)} MB (goal ≤ 120 MB, flat)`);
}

process.on('SIGINT', () => {
	cleanup();
	process.exit(130);
});
try {
	const cli = build();
	await tailFigure(cli);
	await latencyFigure(cli);
	await throughputFigure(cli);
} finally {
	cleanup();
}
