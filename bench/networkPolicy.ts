// Figures of issue 20 for the network policy `none` (agent-runner/stigmer_agent_runner/netpolicy.py), in one
// run, against the image of the commit before the policy (built from `git archive`, its own tag): there is
// no switch that turns the filter off, on purpose, so "without" is the code as it was.
//   1. run_command of `true`: p50/p95 of the tool's duration (duration_ms of tool_result), this image vs the
//      baseline, rounds interleaved.
//   2. `server start` → ready (RunnerStack.start: `stigmer server start`, a new container each time), this
//      image vs the baseline, interleaved.
//   3. in the container, the filter's own cost: fork → exec /bin/true → reaped, with and without installing
//      it (300 each, interleaved),
//      and the launcher's start-up work (`netpolicy.prepare`: ctypes, the program, a probe child).
// Run: npm run build && PATH=node_modules/.bin:$PATH node --import tsx bench/networkPolicy.ts [rounds]
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { imageTag } from '../source/contract.js';
import { packageVersion } from '../source/version.js';
import { docker } from '../test/helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall } from '../test/helpers/fakeLlm.js';
import { RunnerStack, repoRoot } from '../test/helpers/runnerStack.js';
import { median, percentile } from './benchStats.js';

const rounds = Number(process.argv[2] ?? 5);
const commands = 30;

/** The image of the commit before netpolicy.py was added, built from `git archive` (its own tag). */
async function baselineImage(): Promise<string> {
	const added = execFileSync('git', ['log', '--format=%H', '--diff-filter=A', '-1', '--', 'agent-runner/stigmer_agent_runner/netpolicy.py'], { cwd: repoRoot }).toString().trim();
	const tag = `${imageTag(packageVersion).replace(/:.*$/, '')}-baseline:${added.slice(0, 12)}`;
	const archive = spawn('git', ['archive', `${added}^`, 'agent-runner', 'docker', '.dockerignore'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
	const build = spawn('docker', ['build', '-q', '--target', 'runtime', '-f', 'docker/Dockerfile', '-t', tag, '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
	archive.stdout.pipe(build.stdin);
	const code = await new Promise<number | null>((resolve) => build.on('close', resolve));
	if (code !== 0) throw new Error(`building ${tag} failed`);
	return tag;
}

const inContainer = `
import json, os, time
from stigmer_agent_runner import netpolicy
t = time.monotonic(); installer, problem = netpolicy.prepare("none"); prepare_ms = (time.monotonic() - t) * 1000
assert problem is None, problem
times = {True: [], False: []}
for i in range(600):  # interleaved, so both see the same load
    install = bool(i % 2)
    t = time.monotonic()
    pid = os.fork()
    if pid == 0:
        if install:
            installer.install()
        os.execv("/bin/true", ["true"])
    os.waitpid(pid, 0)
    times[install].append((time.monotonic() - t) * 1000)
p50 = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps({"prepare": prepare_ms, "with": p50(times[True]), "without": p50(times[False])}))
`;

const llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
try {
	const current = imageTag(packageVersion);
	const baseline = await baselineImage();
	const figures = new Map<string, { p50: number[]; p95: number[]; start: number[] }>();
	for (const image of [current, baseline]) figures.set(image, { p50: [], p95: [], start: [] });
	let inside: { prepare: number; with: number; without: number } | null = null;
	for (let round = 0; round < rounds; round++) {
		for (const image of round % 2 ? [baseline, current] : [current, baseline]) {
			const started = performance.now();
			const stack = await RunnerStack.start({ llmUrl: llm.url, image });
			const figure = figures.get(image)!;
			figure.start.push(performance.now() - started);
			try {
				const agent = path.join(stack.home.dir, 'agent.json');
				writeFileSync(agent, JSON.stringify({ name: 'bench', instructions: 'x', tools: ['run_command'], max_steps: 100 }));
				llm.reset();
				llm.push(...Array.from({ length: commands }, () => toolCall('run_command', { command: 'true' })), finalAnswer('done'));
				const run = await stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 120_000 });
				const durations = run.stdout
					.trim()
					.split('\n')
					.map((l) => JSON.parse(l))
					.filter((e) => e.type === 'tool_result')
					.map((e) => e.data.duration_ms as number);
				if (durations.length !== commands) throw new Error(`${image}: ${durations.length} of ${commands} commands ran:\n${run.stdout}${run.stderr}`);
				figure.p50.push(percentile(durations, 50));
				figure.p95.push(percentile(durations, 95));
				if (image === current && inside === null) inside = JSON.parse((await docker(['exec', stack.containerName, 'python3', '-c', inContainer])).stdout);
			} finally {
				await stack.dispose();
			}
		}
	}
	const now = figures.get(current)!;
	const then = figures.get(baseline)!;
	const ms = (n: number) => `${n.toFixed(0)} ms`;
	console.log(
		`run_command true (${commands} per round, median of ${rounds} rounds): with the policy p50 ${ms(median(now.p50))}, p95 ${ms(median(now.p95))}; ` +
			`before it p50 ${ms(median(then.p50))}, p95 ${ms(median(then.p95))}; added p50 ${ms(median(now.p50) - median(then.p50))}, p95 ${ms(median(now.p95) - median(then.p95))} (goal ≤ +20 / +50 ms)`,
	);
	console.log(
		`server start → ready (median of ${rounds}): with the policy ${(median(now.start) / 1000).toFixed(2)} s, before it ${(median(then.start) / 1000).toFixed(2)} s (ratio ${(median(now.start) / median(then.start)).toFixed(2)}, goal ≤ 1.2)`,
	);
	if (inside)
		console.log(
			`in the container: fork → exec true → reaped p50 ${inside.with.toFixed(2)} ms with the filter installed, ${inside.without.toFixed(2)} ms without (300 each, interleaved); the launcher's start-up preparation ${inside.prepare.toFixed(1)} ms`,
		);
} finally {
	await llm.close();
}
