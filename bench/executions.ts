// Figures of issue 13 (the dashboard's executions view and GET /v1/events), on a real stack: the
// agent-runner container on the local engine, the fake OpenAI-compatible model on the host (in a worker
// thread: bench/executionsModel.ts), the dashboard built (dist/) in a 120×40 tmux terminal with the
// executions view open (Tab).
//   1. state change in the runner → shown on the screen: --changes (20) executions one after the other,
//      each finishing after a model turn; the runner's finished_at against the first screen that shows
//      the row succeeded (tmux polled every 5 ms), p50/p95
//   2. 20 executions at once, each streaming tool calls (run_command, a model turn every 150 ms) for
//      --load-seconds (30): dashboard CPU (% of one core), key → screen (`t` toggles timestamps in the
//      pane title; bench/keyProbe.ts) p50/p95 of --presses (40), RSS every 5 s
//   3. idle, the view open, nothing running: dashboard CPU over --idle-windows (3) windows of
//      --idle-seconds (30) after --settle-seconds (15), median (the method of bench/dashboard.ts)
//   4. the runner with 50 clients on GET /v1/events, idle: its CPU (the container's processes, /proc)
//      over --idle-seconds, against the same window with no client
// Usage: npm run build && npx tsx bench/executions.ts [--changes N] [--load-seconds N] [--idle-seconds N]
//        [--idle-windows N] [--settle-seconds N] [--presses N] [--cpu-prof DIR]
//   --cpu-prof DIR: the dashboard runs under `node --cpu-prof` (its profile and its frame figures,
//   frames.jsonl, one line a second, end up in DIR; open the profile in Chrome's DevTools)
//   BENCH_KEEP_FRAMES=FILE keeps the frame figures (renders, writes, keys → screen, GC pauses per second);
//   BENCH_SHOW_SCREEN=1 prints the screen at the end of the load
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { AgentRunnerClient } from '../source/api/AgentRunnerClient.js';
import { cliCommand, repoRoot } from '../test/helpers/cli.js';
import { nextSandboxUidBase, RunnerStack } from '../test/helpers/runnerStack.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { measureCpu, median, percentile, rssMb } from './benchStats.js';
import { startModelWorker } from './executionsModel.js';
import { keyLatencies } from './keyProbe.js';
import { issue23 as goal, verdict } from './goals.js';

const { values } = parseArgs({
	options: {
		changes: { type: 'string', default: '20' },
		'load-seconds': { type: 'string', default: '30' },
		'idle-seconds': { type: 'string', default: '30' },
		'idle-windows': { type: 'string', default: '3' },
		'settle-seconds': { type: 'string', default: '15' },
		// a p95 of 20 presses is their second-largest value: 40 make it a percentile
		presses: { type: 'string', default: '40' },
		'cpu-prof': { type: 'string' },
	},
});
const changes = Number(values.changes);
const loadSeconds = Number(values['load-seconds']);
const idleSeconds = Number(values['idle-seconds']);
const idleWindows = Math.max(1, Number(values['idle-windows']));
const settleSeconds = Number(values['settle-seconds']);
const presses = Number(values.presses);
const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null;
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A process and all its descendants (the container's init and the runner under it). */
function tree(pid: number): number[] {
	const out = [pid];
	for (let i = 0; i < out.length; i++) {
		for (const task of safeList(`/proc/${out[i]}/task`)) {
			const children = safeRead(`/proc/${out[i]}/task/${task}/children`).trim();
			if (children) out.push(...children.split(/\s+/).map(Number));
		}
	}
	return out;
}
function safeList(dir: string): string[] {
	try {
		return readdirSync(dir);
	} catch {
		return [];
	}
}
function safeRead(file: string): string {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

const agent = { name: 'bench', instructions: 'Do what the user asks.' };

async function main(): Promise<void> {
	const llm = await startModelWorker();
	// 20 at once need 40 sandbox uids, more than a stack's 16: this file's only stack takes its file's
	// range (256 uids, test/helpers/runnerStack.ts) from the first stack's base
	const uidBase = nextSandboxUidBase(8);
	const stack = await RunnerStack.start({ llmUrl: llm.url, maxConcurrency: 20, extraEnv: { STIGMER_LLM_MAX_RETRIES: '0', STIGMER_SANDBOX_UID_BASE: String(uidBase) } });
	const client = new AgentRunnerClient({ baseUrl: stack.baseUrl, tokenFile: stack.home.apiTokenFile });
	const terminal = new TmuxTerminal('bench-exec', { columns: 120, rows: 40 });
	const statsFile = path.join(stack.home.dir, 'frames.jsonl');
	const streams: http.ClientRequest[] = [];
	try {
		const profileEnv = profileDir ? [`NODE_OPTIONS=--cpu-prof --cpu-prof-dir=${profileDir}`] : [];
		const command = ['env', `STIGMER_DASHBOARD_STATS=${statsFile}`, ...profileEnv, ...cliCommand(), '--home', stack.home.dir, 'dashboard'].map(quote).join(' ');
		terminal.start(`cd ${quote(repoRoot)} && ${command}`);
		await terminal.waitFor('the agent-runner row', (s) => /agent-runner\s+running/.test(s), 60_000);
		const dashboardPid = terminal.programPid();
		terminal.keys('Tab');
		await terminal.waitFor('the executions view', (s) => /ID\s+AGENT\s+STATE/.test(s), 20_000);

		// 1. state change → screen
		process.stderr.write(`change → screen: ${changes} executions…\n`);
		const latencies: number[] = [];
		for (let i = 0; i < changes; i++) {
			const { id } = await client.submit({ agent, input: `bench-change ${i}` });
			const short = id.split('-').at(-1)!;
			const shown = () =>
				terminal
					.screen()
					.split('\n')
					.some((l) => l.includes(short) && /succeeded/.test(l));
			const deadline = Date.now() + 20_000;
			while (!shown() && Date.now() < deadline) await sleep(5);
			const seenAt = Date.now();
			const finished = (await client.get(id)).finished_at;
			latencies.push(seenAt - Date.parse(finished ?? ''));
		}

		// 3. idle with the view open (before the load: nothing has run for long)
		await sleep(settleSeconds * 1000);
		const idle: number[] = [];
		for (let w = 0; w < idleWindows; w++) {
			process.stderr.write(`idle: window ${w + 1}/${idleWindows}, ${idleSeconds} s…\n`);
			idle.push((await measureCpu([[dashboardPid]], idleSeconds))[0]!);
		}
		const idleRss = rssMb(dashboardPid);
		const { latencies: idleKeys, polled: idlePolled } = await keyLatencies(terminal, presses);

		// 4. the runner with 50 idle stream clients, against no client
		const containerPid = Number(execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', stack.containerName], { encoding: 'utf8' }).trim());
		const runnerPids = tree(containerPid);
		process.stderr.write(`runner: ${idleSeconds} s with the dashboard's stream only…\n`);
		const [runnerBase] = await measureCpu([runnerPids], idleSeconds);
		const token = readFileSync(stack.home.apiTokenFile, 'utf8').trim();
		let connected = 0;
		for (let i = 0; i < 50; i++) {
			const req = http.get(`${stack.baseUrl}/v1/events?limit=10`, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
				connected++;
				res.resume();
			});
			req.on('error', () => {});
			streams.push(req);
		}
		const until = Date.now() + 10_000;
		while (connected < 50 && Date.now() < until) await sleep(20);
		await sleep(2000);
		process.stderr.write(`runner: ${idleSeconds} s with ${connected} more idle stream clients…\n`);
		const [runner50] = await measureCpu([runnerPids], idleSeconds);
		for (const req of streams) req.destroy();

		// 2. 20 executions at once, each streaming tool calls
		// enough turns to last through the measure and both rounds of presses
		const turns = Math.ceil((loadSeconds + 15 + presses * 0.6) / 0.2);
		process.stderr.write(`load: 20 executions × ${turns} tool calls, ${loadSeconds} s measured…\n`);
		const loadIds = await Promise.all(Array.from({ length: 20 }, (_, i) => client.submit({ agent: { ...agent, max_steps: 1000 }, input: `bench-load ${turns} #${i}` }).then((r) => r.id)));
		await terminal.waitFor('20 running', (s) => (s.match(/ running /g) ?? []).length >= 15, 30_000);
		await sleep(3000);
		const rssSeries: number[] = [];
		const cpuPromise = measureCpu([[dashboardPid]], loadSeconds);
		for (let t = 0; t < loadSeconds; t += 5) {
			rssSeries.push(rssMb(dashboardPid));
			await sleep(Math.min(5, loadSeconds - t) * 1000);
		}
		const [loadCpu] = await cpuPromise;
		if (process.env.BENCH_SHOW_SCREEN) process.stderr.write(`${terminal.screen()}\n`);
		rssSeries.push(rssMb(dashboardPid));
		const { latencies: loadKeys, polled: loadPolled } = await keyLatencies(terminal, presses);
		for (const id of loadIds) await client.cancel(id).catch(() => undefined);

		const cell = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
		const rows: Array<[string, string, string, string]> = [
			[
				'state change in the runner → on the screen (p50 / p95)',
				`${cell(median(latencies), 0)} / ${cell(percentile(latencies, 95), 0)} ms (${latencies.length} changes)`,
				'p95 ≤ 200 ms',
				percentile(latencies, 95) <= 200 ? 'met' : 'NOT met',
			],
			// issue 23's goals for 20 running (bench/goals.ts; issue 13's were 30 % and 150 MB)
			[
				`20 executions streaming tool calls: dashboard CPU over ${loadSeconds} s`,
				`${cell(loadCpu!)} % of one core`,
				`≤ ${goal.executionsCpuPercent} %`,
				verdict(loadCpu! <= goal.executionsCpuPercent),
			],
			[
				'key → screen, idle, executions view (p50 / p95)',
				`${cell(median(idleKeys), 0)} / ${cell(percentile(idleKeys, 95), 0)} ms (${idleKeys.length} presses; polled ${cell(median(idlePolled), 0)} / ${cell(percentile(idlePolled, 95), 0)})`,
				'p95 ≤ 100 ms',
				percentile(idleKeys, 95) <= 100 ? 'met' : 'NOT met',
			],
			[
				'20 executions: key → screen (p50 / p95)',
				`${cell(median(loadKeys), 0)} / ${cell(percentile(loadKeys, 95), 0)} ms (${loadKeys.length} presses, ${loadKeys.filter((k) => k > 100).length} over 100 ms, max ${cell(Math.max(...loadKeys), 0)}; polled ${cell(median(loadPolled), 0)} / ${cell(percentile(loadPolled, 95), 0)})`,
				'p95 ≤ 100 ms',
				percentile(loadKeys, 95) <= 100 ? 'met' : 'NOT met',
			],
			[
				'20 executions: dashboard RSS every 5 s (MB)',
				rssSeries.map((r) => cell(r, 0)).join(' '),
				`≤ ${goal.executionsRssMb}, flat`,
				verdict(Math.max(...rssSeries) <= goal.executionsRssMb && rssSeries.at(-1)! - rssSeries[0]! < 20),
			],
			[
				`idle, executions view open: dashboard CPU (median of ${idle.length} × ${idleSeconds} s)`,
				`${cell(median(idle), 2)} % (windows ${idle.map((c) => cell(c, 2)).join(' ')}; RSS ${cell(idleRss, 0)} MB)`,
				'≤ 1 %',
				median(idle) <= 1 ? 'met' : 'NOT met',
			],
			[`runner CPU, 50 idle /v1/events clients (${idleSeconds} s)`, `${cell(runner50!, 2)} % (without them ${cell(runnerBase!, 2)} %)`, '≤ 1 %', runner50! <= 1 ? 'met' : 'NOT met'],
		];
		const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'measured', 'goal', ''][i]!.length));
		const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
		console.log(`\nstigmer executions view, ${os.cpus().length} CPUs, Node ${process.version}, terminal 120×40 (tmux), real engine + container, fake model on the host`);
		console.log(line(['figure', 'measured', 'goal', '']));
		console.log(line(widths.map((w) => '-'.repeat(w))));
		for (const r of rows) console.log(line(r));
		writeFileSync(path.join(stack.home.dir, 'done'), '');
		if (process.env.BENCH_KEEP_FRAMES) copyFileSync(statsFile, process.env.BENCH_KEEP_FRAMES);
		if (profileDir) {
			// the profile is written when the dashboard exits: quit it with q, not with a signal
			terminal.keys('q', true);
			await terminal.waitFor('the dashboard to exit', (s) => s.includes('STIGMER-EXIT='), 30_000);
			copyFileSync(statsFile, path.join(profileDir, 'frames.jsonl'));
			console.log(`profile and frames.jsonl in ${profileDir}`);
		}
	} finally {
		for (const req of streams) req.destroy();
		terminal.kill();
		client.close();
		await stack.dispose();
		await llm.close();
	}
}

await main();
