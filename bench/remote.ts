// Figures of issue 12 (a remote engine), in one run against the local socket and the remote test host
// (scripts/engines/remote.sh) over ssh:// and tcp+TLS, side by side:
//   1. `server start` → ready (median of --runs), remote vs local (goal ≤ 2×)
//   2. `stigmer run` → first event printed (`· queued`), built CLI, median of --runs (goal ≤ 0.5 s remote)
//   3. `server logs -f` latency, line written in the container → line printed, p50 / p99 (goal ≤ 150 / 400 ms over ssh)
//   4. `server logs -n 100000` of a 1,000,000-line container vs `docker logs --tail 100000` over the
//      same endpoint, alternating, medians and their ratio (goal ≤ 1.3 over ssh)
//   5. the dashboard's idle CPU in a 120×40 tmux over --idle-seconds after 10 s of start-up, the ssh
//      processes it runs included (goal ≤ 1 % of a core, no polling)
// The fake LLM on this machine's 127.0.0.1 reaches the remote's containers through ssh -R
// (test/helpers/remoteEngine.ts). Run it when the machine is quiet; it prints the load average.
// Usage: npm run build && npx tsx bench/remote.ts [--runs N] [--idle-seconds N] [local|ssh|tls ...]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { baseImage, labels } from '../source/contract.js';
import { StigmerHome } from '../source/home/StigmerHome.js';
import { cliCommand, repoRoot } from '../test/helpers/cli.js';
import { startFakeLlm } from '../test/helpers/fakeLlm.js';
import { RunnerStack } from '../test/helpers/runnerStack.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { cpuTicks, median, percentile } from './benchStats.js';

const { values, positionals } = parseArgs({
	allowPositionals: true,
	options: { runs: { type: 'string', default: '5' }, 'idle-seconds': { type: 'string', default: '30' }, one: { type: 'boolean', default: false } },
});
const runs = Number(values.runs);
const idleSeconds = Number(values['idle-seconds']);

interface Figures {
	endpoint: string;
	url: string;
	startMs: number;
	firstEventMs: number;
	followP50: number;
	followP99: number;
	followLines: number;
	tailOursMs: number;
	tailDockerMs: number;
	dashboardIdleCpu: number;
	dashboardSshCpu: number;
}

/** cpuTicks, 0 for a process that is gone (an ssh that ended). */
function cpuTicksOrZero(pid: number): number {
	try {
		return cpuTicks(pid);
	} catch {
		return 0;
	}
}

/** The pids whose parent is `pid` (the dashboard's ssh processes). */
function children(pid: number): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
			if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
		} catch {
			// gone
		}
	}
	return found;
}

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 30 }).trim();

function timed(command: string, args: string[]): number {
	const started = process.hrtime.bigint();
	const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
	if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
	return Number(process.hrtime.bigint() - started) / 1e6;
}

/** A container labelled as the agent-runner of `home` (what `server logs` reads), running `script`. */
function logContainer(home: StigmerHome, script: string): string {
	const args = ['run', '-d', '--label', `${labels.managed}=true`, '--label', `${labels.service}=agent-runner`, '--label', `${labels.home}=${home.hash}`];
	return docker(...args, '--label', 'ai.stigmer.bench=remote', baseImage, 'sh', '-c', script);
}

async function measureOne(endpoint: string): Promise<void> {
	const cli = cliCommand();
	const scratch = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-remote-'));
	const llm = await startFakeLlm({ script: [], whenExhausted: { content: 'done' }, host: '127.0.0.1' });
	const stack = await RunnerStack.start({ llmUrl: llm.url });
	const home = ['--home', stack.home.dir];
	const figures: Partial<Figures> = { endpoint, url: process.env.DOCKER_HOST ?? '' };
	try {
		// 1. start → ready (the container is created once; later starts find it and start it)
		const start: number[] = [];
		for (let i = 0; i < runs; i++) {
			const stop = await stack.cli(['server', 'stop'], { timeoutMs: 120_000 });
			if (stop.code !== 0) throw new Error(`server stop: ${stop.stderr}`);
			const t0 = performance.now();
			const r = await stack.cli(['server', 'start'], { timeoutMs: 300_000 });
			start.push(performance.now() - t0);
			if (r.code !== 0) throw new Error(`server start: ${r.stderr}`);
		}
		figures.startMs = median(start);

		// 2. run → first event
		const agent = path.join(scratch, 'agent.yaml');
		writeFileSync(agent, 'name: bench\ninstructions: Answer at once.\ntools: [read_file]\n');
		await stack.cli(['run', agent, 'warm up'], { timeoutMs: 120_000 });
		const first: number[] = [];
		for (let i = 0; i < runs; i++) {
			const t0 = performance.now();
			const child = stack.spawnCli(['run', agent, `hello ${i}`]);
			let out = '';
			let seen = Number.NaN;
			child.stdout!.on('data', (c: Buffer) => {
				out += c.toString();
				if (Number.isNaN(seen) && out.includes('· queued')) seen = performance.now() - t0;
			});
			await new Promise((resolve) => child.on('close', resolve));
			first.push(seen);
		}
		figures.firstEventMs = median(first);

		// 3. logs -f latency: a container stamping lines every 50 ms for 15 s, followed from its start (as bench/logs.ts)
		const followHome = new StigmerHome(mkdtempSync(path.join(scratch, 'follow-')), false);
		const stamping = logContainer(followHome, 'sleep 3; i=0; while [ $i -lt 300 ]; do echo "lat $(date +%s%N)"; sleep 0.05; i=$((i+1)); done; sleep 3600');
		const follower = spawn(cli[0]!, [...cli.slice(1), '--home', followHome.dir, 'server', 'logs', '-f', '-n', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
		const latencies: number[] = [];
		let pending = '';
		follower.stdout.setEncoding('utf8');
		follower.stdout.on('data', (chunk: string) => {
			const now = BigInt(Date.now()) * 1_000_000n;
			pending += chunk;
			for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
				const match = /lat (\d+)/.exec(pending.slice(0, i));
				if (match) latencies.push(Number(now - BigInt(match[1]!)) / 1e6);
				pending = pending.slice(i + 1);
			}
		});
		for (let waited = 0; latencies.length < 300 && waited < 40_000; waited += 100) await sleep(100);
		follower.kill('SIGINT');
		await new Promise((resolve) => follower.on('close', resolve));
		docker('rm', '-f', stamping);
		figures.followP50 = percentile(latencies, 50);
		figures.followP99 = percentile(latencies, 99);
		figures.followLines = latencies.length;

		// 4. logs -n 100000 vs docker logs --tail 100000, same endpoint
		const tailHome = new StigmerHome(mkdtempSync(path.join(scratch, 'tail-')), false);
		const big = logContainer(tailHome, 'seq 1 1000000 | sed "s/^/lorem ipsum dolor sit amet, consectetur adipiscing elit, line /"');
		docker('wait', big);
		timed('docker', ['logs', '--tail', '100000', big]);
		const ours: number[] = [];
		const theirs: number[] = [];
		for (let i = 0; i < runs; i++) {
			theirs.push(timed('docker', ['logs', '--tail', '100000', big]));
			ours.push(timed(cli[0]!, [...cli.slice(1), '--home', tailHome.dir, 'server', 'logs', '-n', '100000']));
		}
		figures.tailOursMs = median(ours);
		figures.tailDockerMs = median(theirs);

		// 5. the dashboard, idle, with its ssh processes
		const terminal = new TmuxTerminal(`remote-${endpoint}`, { columns: 120, rows: 40 });
		const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
		terminal.start(['env', 'NO_COLOR=1', ...cli, ...home, 'dashboard'].map(quote).join(' '));
		try {
			await terminal.waitFor('the agent-runner row', (screen) => /agent-runner\s+running/.test(screen), 60_000);
			await sleep(10_000);
			const pid = terminal.programPid();
			const sshBefore = new Map(children(pid).map((p) => [p, cpuTicksOrZero(p)]));
			const before = cpuTicksOrZero(pid);
			const t0 = performance.now();
			await sleep(idleSeconds * 1000);
			const seconds = (performance.now() - t0) / 1000;
			figures.dashboardIdleCpu = ((cpuTicksOrZero(pid) - before) / 100 / seconds) * 100;
			let ssh = 0;
			for (const p of children(pid)) ssh += cpuTicksOrZero(p) - (sshBefore.get(p) ?? 0);
			figures.dashboardSshCpu = (ssh / 100 / seconds) * 100;
		} finally {
			terminal.kill();
		}
		console.log(JSON.stringify(figures));
	} finally {
		const ids = docker('ps', '-aq', '--filter', 'label=ai.stigmer.bench=remote').split('\n').filter(Boolean);
		if (ids.length > 0) docker('rm', '-f', ...ids);
		await stack.dispose();
		await llm.close();
		rmSync(scratch, { recursive: true, force: true });
	}
}

function measureAll(endpoints: string[]): void {
	const settings = Object.fromEntries(
		execFileSync('bash', ['scripts/engines/remote.sh'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
			.trim()
			.split('\n')
			.filter((line) => line.startsWith('STIGMER_'))
			.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
	);
	const base: NodeJS.ProcessEnv = { ...process.env, PATH: `${settings.STIGMER_ENGINE_BIN}:${process.env.PATH}` };
	delete base.DOCKER_CONTEXT;
	const envs: Record<string, NodeJS.ProcessEnv> = {
		local: { ...base, DOCKER_HOST: 'unix:///var/run/docker.sock' },
		ssh: { ...base, DOCKER_HOST: settings.STIGMER_REMOTE_SSH, STIGMER_TEST_REMOTE_SSH_HOST: settings.STIGMER_REMOTE_SSH!.replace(/^ssh:\/\//, '') },
		tls: {
			...base,
			DOCKER_HOST: settings.STIGMER_REMOTE_TLS,
			DOCKER_TLS_VERIFY: '1',
			DOCKER_CERT_PATH: settings.STIGMER_REMOTE_CERT_PATH,
			STIGMER_TEST_REMOTE_SSH_HOST: settings.STIGMER_REMOTE_SSH!.replace(/^ssh:\/\//, ''),
		},
	};
	const results: Figures[] = [];
	const loads: string[] = [];
	for (const endpoint of endpoints) {
		console.error(`bench/remote: ${endpoint} (${envs[endpoint]!.DOCKER_HOST})`);
		loads.push(`${endpoint} ${os.loadavg()[0]!.toFixed(1)}`);
		const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/remote.ts', '--one', '--runs', String(runs), '--idle-seconds', String(idleSeconds), endpoint], {
			cwd: repoRoot,
			env: envs[endpoint],
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'inherit'],
			timeout: 1_800_000,
		});
		const line = child.stdout?.trim().split('\n').at(-1) ?? '';
		if (child.status !== 0 || !line.startsWith('{')) {
			console.error(`bench/remote: ${endpoint} failed (${child.status ?? child.signal})`);
			continue;
		}
		results.push(JSON.parse(line) as Figures);
	}
	const local = results.find((f) => f.endpoint === 'local');
	const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
	const rows: Array<[string, (f: Figures) => string, string]> = [
		['endpoint', (f) => f.url, ''],
		['server start → ready', (f) => `${s(f.startMs)}${local && f !== local ? ` (${(f.startMs / local.startMs).toFixed(2)}×)` : ''}`, '≤ 2× local'],
		['run → first event', (f) => s(f.firstEventMs), '≤ 0.5 s remote'],
		['logs -f latency p50 / p99', (f) => `${f.followP50.toFixed(0)} / ${f.followP99.toFixed(0)} ms (${f.followLines})`, '≤ 150 / 400 ms'],
		['logs -n 100000 / docker logs --tail', (f) => `${s(f.tailOursMs)} / ${s(f.tailDockerMs)} = ${(f.tailOursMs / f.tailDockerMs).toFixed(2)}`, 'ratio ≤ 1.3'],
		['dashboard idle CPU (+ its ssh)', (f) => `${f.dashboardIdleCpu.toFixed(2)} % (+${f.dashboardSshCpu.toFixed(2)} %)`, '≤ 1 % of a core'],
	];
	console.log(
		`remote engine figures: medians of ${runs} runs; dashboard idle over ${idleSeconds} s (Node ${process.version}, ${os.cpus().length} cores; 1-min load at each start: ${loads.join(', ')})`,
	);
	console.log(['figure'.padEnd(38), ...results.map((f) => f.endpoint.padEnd(32)), 'goal'].join(' '));
	for (const [name, value, goal] of rows) console.log([name.padEnd(38), ...results.map((f) => value(f).padEnd(32)), goal].join(' '));
}

if (values.one) {
	measureOne(positionals[0] ?? 'local').catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
} else {
	measureAll(positionals.length > 0 ? positionals : ['local', 'ssh', 'tls']);
}
