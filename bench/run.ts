// Figures of issue 6 for `stigmer run`, against the real agent-runner container and the fake model:
//   1. `stigmer run` → first event printed (`· queued`), fake model answering at once: median and p90
//      of the built CLI (dist/cli.js, what users run), of the CLI from source through
//      tsx (a checkout without a build), and of the client alone (submit → first event, in process).
//   2. 20 concurrent `stigmer run` with STIGMER_MAX_CONCURRENCY=4: all succeed; total time and throughput,
//      once with the model answering at once and once with 250 ms per model turn.
// Run: PATH=node_modules/.bin:$PATH node --import tsx bench/run.ts   (Node 24 from the devDependency)
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentRunnerClient } from '../source/api/AgentRunnerClient.js';
import { startFakeLlm, type FakeLlmStep } from '../test/helpers/fakeLlm.js';
import { RunnerStack, repoRoot } from '../test/helpers/runnerStack.js';
import { percentile } from './benchStats.js';

const firstEventRuns = 15;
const concurrentRuns = 20;

const ms = (v: number) => `${v.toFixed(0)} ms`;

/** The built CLI, as users run it after `npm install` (which builds dist/ through `prepare`). */
function builtCli(): string {
	const entry = path.join(repoRoot, 'dist', 'cli.js');
	if (!existsSync(entry)) throw new Error('dist/cli.js is missing: run `npx tsc -p .` first');
	return entry;
}

interface Timed {
	firstEventMs: number;
	totalMs: number;
	code: number | null;
}

function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Timed> {
	const started = performance.now();
	const child = spawn(process.execPath, argv, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
	let firstEventMs = NaN;
	let out = '';
	let err = '';
	child.stdout.on('data', (c: Buffer) => {
		out += c.toString();
		if (Number.isNaN(firstEventMs) && out.includes('· queued')) firstEventMs = performance.now() - started;
	});
	child.stderr.on('data', (c: Buffer) => (err += c.toString()));
	return new Promise((resolve) => {
		child.on('close', (code) => {
			if (code !== 0) process.stderr.write(`run failed (${code}):\n${out}\n${err}\n`);
			resolve({ firstEventMs, totalMs: performance.now() - started, code });
		});
	});
}

async function main(): Promise<void> {
	const llmOptions: { script: FakeLlmStep[]; whenExhausted: FakeLlmStep } = { script: [], whenExhausted: { content: 'done' } };
	const llm = await startFakeLlm(llmOptions);
	const stack = await RunnerStack.start({ llmUrl: llm.url, maxConcurrency: 4 });
	const cliEntry = builtCli();
	try {
		const agent = path.join(stack.home.dir, 'agent.yaml');
		writeFileSync(agent, 'name: bench\ninstructions: Answer at once.\ntools: [read_file]\n');
		const home = ['--home', stack.home.dir];
		const bundled = (...args: string[]) => [cliEntry, ...home, ...args];
		const fromSource = (...args: string[]) => ['--import', 'tsx', path.join(repoRoot, 'source/cli.ts'), ...home, ...args];

		// Warm-up: the runner's first execution and the OS file cache.
		await runCli(bundled('run', agent, 'warm up'));
		await runCli(fromSource('run', agent, 'warm up'));

		const figures: Array<[string, string]> = [];
		for (const [label, argv] of [
			['built CLI (node dist/cli.js)', bundled],
			['CLI from source (node --import tsx)', fromSource],
		] as const) {
			const first: number[] = [];
			const total: number[] = [];
			for (let i = 0; i < firstEventRuns; i++) {
				const r = await runCli(argv('run', agent, `hello ${i}`));
				if (r.code !== 0) throw new Error(`${label}: run ${i} exited ${r.code}`);
				first.push(r.firstEventMs);
				total.push(r.totalMs);
			}
			figures.push([`run → first event printed, ${label}`, `median ${ms(percentile(first, 50))}, p90 ${ms(percentile(first, 90))} (whole run: median ${ms(percentile(total, 50))})`]);
		}

		const client = AgentRunnerClient.forHome(stack.home);
		const inProcess: number[] = [];
		for (let i = 0; i < firstEventRuns; i++) {
			const started = performance.now();
			const { id } = await client.submit({ agent: { name: 'bench', instructions: 'x' }, input: `in process ${i}` });
			for await (const item of client.events(id)) {
				if (item.kind === 'event') {
					inProcess.push(performance.now() - started);
					break;
				}
			}
		}
		client.close();
		figures.push(['submit → first event, client in process', `median ${ms(percentile(inProcess, 50))}, p90 ${ms(percentile(inProcess, 90))}`]);

		for (const delayMs of [0, 250]) {
			llmOptions.whenExhausted = { content: 'done', delayMs };
			const started = performance.now();
			const results = await Promise.all(Array.from({ length: concurrentRuns }, (_, i) => runCli(bundled('run', agent, `concurrent ${i}`))));
			const elapsed = performance.now() - started;
			const ok = results.filter((r) => r.code === 0).length;
			figures.push([
				`${concurrentRuns} concurrent runs, max concurrency 4, model ${delayMs === 0 ? 'at once' : `${delayMs} ms per turn`}`,
				`${ok}/${concurrentRuns} succeeded; total ${(elapsed / 1000).toFixed(2)} s; ${(ok / (elapsed / 1000)).toFixed(1)} executions/s; per run median ${ms(
					percentile(
						results.map((r) => r.totalMs),
						50,
					),
				)}, max ${ms(Math.max(...results.map((r) => r.totalMs)))}`,
			]);
		}

		const width = Math.max(...figures.map(([k]) => k.length));
		process.stdout.write(`\nstigmer run figures (${new Date().toISOString()}, node ${process.version})\n`);
		for (const [k, v] of figures) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
	} finally {
		await stack.dispose();
		await llm.close();
	}
}

await main();
