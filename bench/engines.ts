// Figures of issue 11, per container engine, side by side in one run:
//   server start → ready, server status --json, server stop (medians of --runs, default 5), and
//     stigmer --help beside them: Node's start-up without the engine, the baseline of a loaded machine
//   the dashboard's CPU % of the agent-runner (its stats stream) against the container's cgroup read on
//     this host over each frame's window, idle and with a busy loop (10 frames each), median differences
//   the dashboard's own idle CPU (% of one core over --idle-seconds, default 30, after 15 s of start-up),
//     in a 120×40 tmux terminal, agent-runner only
// Engines: docker (the host's), podman, docker26, docker28 (scripts/engines/env.sh provisions each, cached);
// the docker-in-docker ones are measured inside their network namespace, as the tests run there.
// Usage: npm run build && npx tsx bench/engines.ts [--runs N] [--idle-seconds N] [ENGINE...]
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type ContainerStats, followContainerStats } from '../source/engine/containerStats.js';
import { DockerApi } from '../source/engine/DockerApi.js';
import { cliCommand, makeTestHome, repoRoot } from '../test/helpers/cli.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { ContainerCgroup, cpuNsAt, halfCoreLoop, sampleCgroup, stopHalfCoreLoop } from '../test/helpers/containerCgroup.js';
import { cpuTicks, median } from './benchStats.js';

const { values, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		runs: { type: 'string', default: '5' },
		'idle-seconds': { type: 'string', default: '30' },
		one: { type: 'boolean', default: false },
	},
});
const runs = Number(values.runs);
const idleSeconds = Number(values['idle-seconds']);

interface Figures {
	engine: string;
	version: string;
	startMs: number;
	statusMs: number;
	helpMs: number;
	dockerPsMs: number;
	load: string;
	stopMs: number;
	cpuIdleDiff: number;
	cpuLoadDiff: number;
	cpuLoad: number;
	cpuSamples: string;
	dashboardIdleCpu: number;
}

/** One engine, the one DOCKER_HOST names; prints its figures as one JSON line. */
async function measureOne(engine: string): Promise<void> {
	const home = await makeTestHome('stigmer-bench-engines-');
	const api = await DockerApi.connect(process.env, 30_000);
	const timed = async (args: string[]) => {
		const r = await home.cli(args, { timeoutMs: 300_000 });
		if (r.code !== 0) throw new Error(`stigmer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
		return r.ms;
	};
	try {
		await timed(['server', 'start']); // builds nothing (the image is loaded), warms the engine's caches
		await timed(['server', 'stop']);
		const start: number[] = [];
		const status: number[] = [];
		const stop: number[] = [];
		const help: number[] = [];
		const dockerPs: number[] = [];
		const loadBefore = os.loadavg()[0]!;
		for (let i = 0; i < runs; i++) {
			start.push(await timed(['server', 'start']));
			status.push(await timed(['server', 'status', '--json']));
			help.push(await timed(['--help']));
			// the reference: the engine's own docker CLI, one round trip through the same socket
			const t0 = performance.now();
			execFileSync('docker', ['ps', '-a', '--filter', 'label=ai.stigmer.bench=none'], { stdio: 'ignore' });
			dockerPs.push(performance.now() - t0);
			stop.push(await timed(['server', 'stop']));
		}

		await timed(['server', 'start']);
		const id = JSON.parse((await home.cli(['server', 'status', '--json'])).stdout).services[0].id as string;
		// the dashboard's stream, as it shows it, against the kernel: the container's cgroup read on this host
		// every 50 ms, interpolated at each frame's preread and read (never `docker stats`, wrong on Podman)
		const pid = (JSON.parse(execFileSync('docker', ['inspect', id], { encoding: 'utf8' })) as Array<{ State: { Pid: number } }>)[0]!.State.Pid;
		const cgroup = ContainerCgroup.ofPid(pid);
		const parity = async (frames: number) => {
			const sampler = sampleCgroup(cgroup);
			const seen: ContainerStats[] = [];
			const controller = new AbortController();
			const following = followContainerStats(api, id, (s) => seen.push(s), controller.signal);
			for (let waited = 0; seen.filter((f) => Number.isFinite(f.cpuPercent)).length < frames && waited < 120_000; waited += 100) await sleep(100);
			await sleep(100);
			controller.abort();
			await following;
			const samples = sampler.stop();
			const pairs: Array<[number, number]> = [];
			for (const f of seen.filter((f) => Number.isFinite(f.cpuPercent))) {
				const start = cpuNsAt(samples, f.timeMs - f.cpuWindowMs);
				const end = cpuNsAt(samples, f.timeMs);
				if (start !== null && end !== null) pairs.push([f.cpuPercent, ((end - start) / (f.cpuWindowMs * 1e6)) * 100]);
			}
			return pairs;
		};
		const idlePairs = await parity(10);
		// about half a core in the runner
		execFileSync('docker', ['exec', '-d', id, 'bash', '-c', halfCoreLoop]);
		await sleep(2000);
		const loadPairs = await parity(10);
		execFileSync('docker', ['exec', id, 'bash', '-c', stopHalfCoreLoop]);
		const samples = (pairs: Array<[number, number]>) => pairs.map(([d, k]) => `${d.toFixed(2)}/${k.toFixed(2)}`).join(' ');
		// the dashboard itself, idle
		const terminal = new TmuxTerminal(`engines-${engine}`, { columns: 120, rows: 40 });
		const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
		terminal.start(['env', 'NO_COLOR=1', ...cliCommand(), '--home', home.dir, 'dashboard'].map(quote).join(' '));
		let idle = Number.NaN;
		try {
			await terminal.waitFor('the agent-runner row', (screen) => /agent-runner\s+running/.test(screen), 60_000);
			await sleep(15_000);
			const pid = terminal.programPid();
			const before = cpuTicks(pid);
			const t0 = performance.now();
			await sleep(idleSeconds * 1000);
			idle = ((cpuTicks(pid) - before) / 100 / ((performance.now() - t0) / 1000)) * 100;
		} finally {
			terminal.kill();
		}

		const figures: Figures = {
			engine,
			version: `${api.info?.platform} ${api.info?.version}`,
			startMs: median(start),
			statusMs: median(status),
			helpMs: median(help),
			dockerPsMs: median(dockerPs),
			load: `${loadBefore.toFixed(1)}–${os.loadavg()[0]!.toFixed(1)}`,
			stopMs: median(stop),
			cpuIdleDiff: median(idlePairs.map(([d, k]) => Math.abs(d - k))),
			cpuLoadDiff: median(loadPairs.map(([d, k]) => Math.abs(d - k) / k)),
			cpuLoad: median(loadPairs.map(([, k]) => k)),
			cpuSamples: `idle ${samples(idlePairs)}; load ${samples(loadPairs)}`,
			dashboardIdleCpu: idle,
		};
		console.log(JSON.stringify(figures));
	} finally {
		api.close();
		await home.cleanup();
	}
}

/** Provisions each engine, measures it in a child (inside its network namespace for docker-in-docker), prints the table. */
function measureAll(engines: string[]): void {
	const results: Figures[] = [];
	for (const engine of engines) {
		const settings = Object.fromEntries(
			execFileSync('bash', ['scripts/engines/env.sh', engine], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
				.trim()
				.split('\n')
				.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
		);
		const env = { ...process.env, DOCKER_HOST: settings.DOCKER_HOST, PATH: settings.STIGMER_ENGINE_BIN ? `${settings.STIGMER_ENGINE_BIN}:${process.env.PATH}` : process.env.PATH };
		const self = [process.execPath, '--import', 'tsx', 'bench/engines.ts', '--one', '--runs', String(runs), '--idle-seconds', String(idleSeconds), engine];
		const command = settings.STIGMER_ENGINE_NETNS ? ['nsenter', `--net=${settings.STIGMER_ENGINE_NETNS}`, '--', ...self] : self;
		console.error(`bench/engines: ${engine} (${settings.DOCKER_HOST})`);
		const child = spawnSync(command[0]!, command.slice(1), { cwd: repoRoot, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_200_000 });
		const line = child.stdout?.trim().split('\n').at(-1) ?? '';
		if (child.status !== 0 || !line.startsWith('{')) {
			console.error(`bench/engines: ${engine} failed (${child.status ?? child.signal})`);
			continue;
		}
		results.push(JSON.parse(line) as Figures);
	}
	const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
	const s3 = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
	const rows: Array<[string, (f: Figures) => string, string]> = [
		['engine', (f) => f.version, ''],
		['server start → ready', (f) => s(f.startMs), ''],
		['server status --json', (f) => s3(f.statusMs), '≤ 0.3 s'],
		['stigmer --help (Node start-up, no engine)', (f) => s3(f.helpMs), '≤ 0.15 s'],
		["docker ps -a (the engine's docker CLI)", (f) => s3(f.dockerPsMs), 'reference, same socket'],
		['server stop', (f) => s(f.stopMs), ''],
		['dashboard CPU vs cgroup, idle, median diff', (f) => `${f.cpuIdleDiff.toFixed(3)} pt`, '≤ 0.5 point'],
		['dashboard CPU vs cgroup, load, median diff', (f) => `${(f.cpuLoadDiff * 100).toFixed(1)} % of ${f.cpuLoad.toFixed(1)} %`, '≤ 10 % of the value'],
		['dashboard idle CPU', (f) => `${f.dashboardIdleCpu.toFixed(2)} %`, '≤ 1 % of a core'],
		['load average (1 min) while measured', (f) => f.load, ''],
	];
	console.log(
		`engine figures: medians of ${runs} runs; CPU parity over 10 samples; dashboard idle over ${idleSeconds} s (Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`,
	);
	console.log(['figure'.padEnd(36), ...results.map((f) => f.engine.padEnd(22)), 'goal'].join(' '));
	for (const [name, value, goal] of rows) console.log([name.padEnd(36), ...results.map((f) => value(f).padEnd(22)), goal].join(' '));
	for (const f of results) console.log(`${f.engine} CPU samples (dashboard/cgroup): ${f.cpuSamples}`);
}

if (values.one) {
	measureOne(positionals[0] ?? 'docker').catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
} else {
	measureAll(positionals.length > 0 ? positionals : ['docker', 'podman', 'docker26', 'docker28']);
}
