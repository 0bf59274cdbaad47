import { imageTag } from '../source/contract.js';
import { packageVersion } from '../source/version.js';
import { imageSourceHash } from '../source/buildContext.js';
import { docker } from '../test/helpers/docker.js';
import { startFakeLlm } from '../test/helpers/fakeLlm.js';
import { RunnerStack } from '../test/helpers/runnerStack.js';
import { imageBefore } from './baselineImage.js';
import { commandDurations } from './commandDurations.js';
import { median, percentile } from './benchStats.js';

const rounds = Number(process.argv[2] ?? 5);
const commands = 30;

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
	const current = imageTag(packageVersion, imageSourceHash());
	const baseline = await imageBefore('agent-runner/stigmer_agent_runner/netpolicy.py');
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
				const durations = await commandDurations(stack, llm, 'true', commands);
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
