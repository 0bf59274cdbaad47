// Figures of issue 11, per container engine, side by side in one run:
//   server start → ready, server status --json, server stop (medians of --runs, default 5), and
//     stigmer --help beside them: Node's start-up without the engine, the baseline of a loaded machine
//   the dashboard's CPU % of the idle agent-runner (its stats stream) against `docker stats --no-stream`
//     through the same socket: 10 samples, median of the differences
//   the dashboard's own idle CPU (% of one core over --idle-seconds, default 30, after 15 s of start-up),
//     in a 120×40 tmux terminal, agent-runner only
// Engines: docker (the host's), podman, docker26, docker28 (scripts/engines/env.sh provisions each, cached);
// the docker-in-docker ones are measured inside their network namespace, as the tests run there.
// Usage: npm run build && npx tsx bench/engines.ts [--runs N] [--idle-seconds N] [ENGINE...]
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { followContainerStats } from '../source/engine/containerStats.js';
import { DockerApi } from '../source/engine/DockerApi.js';
import { cliCommand, makeTestHome, repoRoot } from '../test/helpers/cli.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
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
	cpuMedianDiff: number;
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
		// the dashboard's stream, as it shows it, against `docker stats --no-stream`: the engine computes
		// both from the same samples, so docker stats' figure is the one of the frame that follows its call
		const controller = new AbortController();
		const frames: number[] = [];
		const following = followContainerStats(api, id, (s) => frames.push(s.cpuPercent), controller.signal);
		const diffs: number[] = [];
		const samples: string[] = [];
		for (let i = 0; i < 10; i++) {
			const theirs = Number.parseFloat(execFileSync('docker', ['stats', '--no-stream', '--format', '{{.CPUPerc}}', id], { encoding: 'utf8' }));
			const seen = frames.length;
			for (let waited = 0; frames.length === seen && waited < 15_000; waited += 50) await sleep(50);
			const mine = frames.at(-1)!;
			diffs.push(Math.abs(mine - theirs));
			samples.push(`${mine.toFixed(2)}/${theirs.toFixed(2)}`);
		}
		controller.abort();
		await following;

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
			cpuMedianDiff: median(diffs),
			cpuSamples: samples.join(' '),
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
		['CPU % vs docker stats, median diff', (f) => `${f.cpuMedianDiff.toFixed(2)} pt`, '≤ 1 point'],
		['dashboard idle CPU', (f) => `${f.dashboardIdleCpu.toFixed(2)} %`, '≤ 1 % of a core'],
		['load average (1 min) while measured', (f) => f.load, ''],
	];
	console.log(
		`engine figures: medians of ${runs} runs; CPU parity over 10 samples; dashboard idle over ${idleSeconds} s (Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`,
	);
	console.log(['figure'.padEnd(36), ...results.map((f) => f.engine.padEnd(22)), 'goal'].join(' '));
	for (const [name, value, goal] of rows) console.log([name.padEnd(36), ...results.map((f) => value(f).padEnd(22)), goal].join(' '));
	for (const f of results) console.log(`${f.engine} CPU samples (dashboard/docker stats): ${f.cpuSamples}`);
}

if (values.one) {
	measureOne(positionals[0] ?? 'docker').catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
} else {
	measureAll(positionals.length > 0 ? positionals : ['docker', 'podman', 'docker26', 'docker28']);
}
